"""The customer's contact after the handoff: a private message or email (the
`customer_contact` signal, sent by ingest or a helpdesk) or a call a supervisor records
(the `contact` update). Either ends the `handoff` wait as contacted.

Each contact is kept in the case's state (channel, time, who recorded it, the text cut to a
bound) and in its audit trail; the codec encrypts both like every customer text.
"""

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from complaintflow.workflows.case.running import CaseRun, clip
    from complaintflow.workflows.messages import (
        CONTACT_CHANNELS,
        ContactAction,
        ContactRecord,
        CustomerContact,
        Refused,
    )

MAX_CONTACTS = 20  # contacts kept: the first one and the latest ones
MAX_CONTACT_TEXT = 1_000  # characters of one contact's text the case keeps


def check_contact(run: CaseRun, action: ContactAction) -> None:
    """A supervisor's contact names who records it and a known channel, on an open case."""
    if not action.by.strip():
        raise Refused('say who you are: add "by": "YOUR NAME" to the payload')
    if run.closed:
        raise Refused(f"case {run.state.case_id} is closed")
    if action.channel not in CONTACT_CHANNELS:
        raise Refused(
            f'unknown channel {action.channel[:50]!r}: "channel" is one of '
            + ", ".join(CONTACT_CHANNELS)
        )


def check_signalled(contact: CustomerContact) -> None:
    """A signalled contact names its channel and, if it gives a time, an ISO 8601 one."""
    if not contact.channel.strip():
        raise Refused('"channel" is empty: say how the customer got in touch')
    if contact.at and _time(contact.at) is None:
        raise Refused(f'"at" is not an ISO 8601 time: {contact.at[:40]!r}')


def record(run: CaseRun, *, channel: str, by: str, text: str, at: str = "") -> ContactRecord:
    """Note the customer's contact: the case is contacted (its handoff wait ends)."""
    when = _time(at) if at else None
    entry = ContactRecord(
        channel=clip(channel, 50),
        at=(when or workflow.now()).isoformat(),
        by=clip(by, 100),
        text=clip(text, MAX_CONTACT_TEXT),
    )
    contacts = run.state.contacts
    contacts.append(entry)
    if len(contacts) > MAX_CONTACTS:
        del contacts[1]  # keep the first contact (how soon) and the latest ones
    run.state.contacted = True
    return entry


def _time(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None

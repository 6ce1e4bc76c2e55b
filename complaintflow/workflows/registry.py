"""Which activity carries out each kind of step, by name.

The workflow calls activities only by these names and adapters register under them, so a new
platform's adapter plugs in without touching the workflow. A new step kind is not that simple:
it also needs its model and schema entry, its compilation (rules/compiler.py), its drawing
(rules/graph.py), its runner in the workflow (`RUNNERS` in workflows/case/steps.py) and, when
it calls an activity, an entry here.
"""

from __future__ import annotations

from complaintflow.rules.model import StepKind

NOTIFY = "complaintflow.notify"
POST_REPLY = "complaintflow.post_reply"
SEND_PRIVATE_MESSAGE = "complaintflow.send_private_message"
OPEN_TICKET = "complaintflow.open_ticket"
ARCHIVE_POST = "complaintflow.archive_post"
REMOVE_POST = "complaintflow.remove_post"
POLL_X_MENTIONS = "complaintflow.poll_x_mentions"
INGEST_MENTIONS = "complaintflow.ingest_mentions"

STEP_ACTIVITIES: dict[StepKind, str] = {
    StepKind.NOTIFY: NOTIFY,
    StepKind.REPLY: POST_REPLY,
    StepKind.HANDOFF: SEND_PRIVATE_MESSAGE,
    StepKind.TICKET: OPEN_TICKET,
    StepKind.ESCALATE: NOTIFY,
    StepKind.REMOVE_PUBLIC: REMOVE_POST,
}
ALL_ACTIVITIES = (NOTIFY, POST_REPLY, SEND_PRIVATE_MESSAGE, OPEN_TICKET, ARCHIVE_POST, REMOVE_POST)

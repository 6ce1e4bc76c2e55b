"""What goes in and out of a case workflow: its input, supervisor actions, activity requests.

Every handler takes one dataclass so that the Web UI (which sends exactly one JSON payload)
and signal-only systems can call it, and so that fields can be added without breaking callers.
"""

import dataclasses
import math
from enum import StrEnum
from typing import Any, TypeVar

from temporalio.exceptions import ApplicationError

from complaintflow.errors import Refused as _Refused
from complaintflow.rules.mention import Mention
from complaintflow.rules.model import CompiledPolicy, parse_policy
from complaintflow.rules.triage import Decision


class Refused(_Refused, ApplicationError):
    """A supervisor action the case cannot take now; the message says why, in plain words.

    Non-retryable: sending the same payload again cannot succeed. A Temporal ApplicationError,
    so raising it from a handler fails the update, never the workflow task.
    """

    def __init__(self, message: str) -> None:
        ApplicationError.__init__(self, message, type="Refused", non_retryable=True)


# The longest value each free-text field of a supervisor action or signal may carry: a case's
# whole state travels in one query answer, far below Temporal's 2 MB payload limit.
FIELD_LIMITS: dict[str, int] = {
    "step": 100,
    "by": 100,
    "text": 10_000,
    "note": 2_000,
    "priority": 20,
    "channel": 50,
    "reference": 500,
    "at": 40,
    "name": 100,
    "playbook": 100,
    "approve": 1_000,  # step ids, comma-separated
}


class CaseStatus(StrEnum):
    """Where a case stands, as shown in the CaseStatus search attribute."""

    OPEN = "open"
    AWAITING_APPROVAL = "awaiting_approval"
    AWAITING_CONTACT = "awaiting_contact"
    AWAITING_RESOLUTION = "awaiting_resolution"
    AWAITING_ROUTE = "awaiting_route"  # a person picks the playbook (unread mentions)
    WAITING = "waiting"
    CLOSED = "closed"


# The route of a case a person opened from a logged remark (`complaintflow open`): the store
# labels its mention a complaint as it opens, and the case starts knowing it.
OPENED_BY = "opened by "


@dataclasses.dataclass(frozen=True)
class CaseInput:
    """A case's start: the complaint, how triage decided it, and the policy pinned for it.

    The policy travels as its compact JSON and is decoded once per worker per version
    (decoding it field by field on every workflow start was the worker's main cost).
    """

    case_id: str
    mention: Mention
    decision: Decision
    policy_json: str
    resume: "Resume | None" = None  # set when a long case continues as new

    @classmethod
    def of(
        cls, case_id: str, mention: Mention, decision: Decision, policy: CompiledPolicy
    ) -> "CaseInput":
        return cls(case_id, mention, decision, policy.to_json())

    @property
    def policy(self) -> CompiledPolicy:
        return parse_policy(self.policy_json)


# The longest text a case keeps of its complaint (X's long posts reach 25,000 characters)
# and of a later post in its thread (the case shows only the first 120): a workflow activation
# must do small, bounded work whatever a customer wrote.
MAX_CASE_TEXT = 25_000
MAX_THREAD_TEXT = 1_000
MAX_BODY_TEXT = 256 * 1024  # no post ingest takes is longer (its body limit)


@dataclasses.dataclass(frozen=True)
class ThreadUpdate:
    """A later post in the complaint's thread (or the first one, via signal-with-start).

    `thanks` is read from the post where it arrives (ingest), never in the workflow: scanning
    customer text there costs time in every activation. None: sent by an older ingest.
    """

    mention: Mention
    decision: Decision | None = None
    thanks: bool | None = None


@dataclasses.dataclass(frozen=True)
class ThreadPost:
    """What a case takes of a later post in its thread (a `thread_update` signal), bounded."""

    id: str
    author_handle: str
    text: str
    sentiment: float | None = None
    thanks: bool | None = None
    score: float | None = None  # None: the post came without a decision
    route: str = ""
    playbook: str = ""


def read_thread_update(payload: Any) -> ThreadPost:
    """The post of a `thread_update` signal, from its decoded JSON; Refused when unusable.

    Read by hand, not by Temporal's dataclass conversion: converting a ThreadUpdate costs
    milliseconds, and hundreds of posts can arrive in one workflow activation. Reads only what
    the case uses, each value cut to its bound.
    """
    if isinstance(payload, ThreadUpdate):
        payload = dataclasses.asdict(payload)
    if not isinstance(payload, dict) or not isinstance(payload.get("mention"), dict):
        raise Refused('a thread_update payload is {"mention": {...}, "decision": {...}}')
    mention = payload["mention"]
    author = mention.get("author")
    decision = payload.get("decision")
    decision = decision if isinstance(decision, dict) else {}
    thanks = payload.get("thanks") if isinstance(payload.get("thanks"), bool) else None
    # A post sent before ingest read its thanks keeps its whole text: replaying such a
    # history must read it as it was read then.
    limit = MAX_THREAD_TEXT if thanks is not None else MAX_BODY_TEXT
    return ThreadPost(
        id=_text(mention.get("id"), 200),
        author_handle=_text(author.get("handle") if isinstance(author, dict) else "", 100),
        text=_text(mention.get("text"), limit),
        sentiment=_number(mention.get("sentiment")),
        thanks=thanks,
        score=_number(decision.get("score")),
        route=_text(decision.get("route"), 100),
        playbook=_text(decision.get("playbook"), 100),
    )


def _text(value: Any, limit: int) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


@dataclasses.dataclass
class SupervisorAction:
    """One supervisor decision. `by` is required; `step` names the step for approvals.

    approve: {"step": "reply_acknowledge", "by": "dana"}
    edit:    {"step": "reply_acknowledge", "by": "dana", "text": "new reply text"}
    reject:  {"step": "reply_acknowledge", "by": "dana", "note": "why"}
    resolve / close / dismiss / escalate: {"by": "dana", "note": "..."} (escalate takes
    "priority"; dismiss: not a complaint, the case closes and nothing is posted; resolve takes
    "approve": the ids of later steps it approves as well)
    """

    step: str = ""
    by: str = ""
    text: str = ""
    note: str = ""
    priority: str = ""
    playbook: str = ""  # route: {"playbook": "standard", "by": "dana"}
    # resolve: later steps to approve now, comma-separated ("remove_public_hide"), so the case
    # goes on through them without asking again
    approve: str = ""


T = TypeVar("T")


def parse_payload(cls: type[T], payload: Any, *, what: str) -> T:
    """A message dataclass from a decoded JSON payload; Refused (with the reason) otherwise.

    Unknown fields, values that are not text and over-long text are refused alike, so an
    update and its signal twin accept exactly the same payloads.
    """
    if isinstance(payload, cls):
        payload = dataclasses.asdict(payload)  # type: ignore[call-overload]
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    if not isinstance(payload, dict):
        raise Refused(f"the {what} payload must be a JSON object with {', '.join(names)}")
    unknown = sorted(str(k) for k in payload if k not in names)
    if unknown:
        raise Refused(
            f"unknown field {unknown[0][:40]!r} in the {what} payload; it takes {', '.join(names)}"
        )
    for key, value in payload.items():
        if not isinstance(value, str):
            raise Refused(f'"{key}" must be text in the {what} payload')
        limit = FIELD_LIMITS.get(key, 1_000)
        if len(value) > limit:
            raise Refused(f'"{key}" is {len(value)} characters; at most {limit} are accepted')
    return cls(**payload)


@dataclasses.dataclass
class CustomerContact:
    """The customer got in touch offline (email, phone, a private message); sent by ingest or
    the helpdesk. `text` is what they wrote (kept bounded, encrypted like every customer text);
    `at` when they wrote it (ISO 8601; default: when the case hears of it)."""

    channel: str = "email"
    reference: str = ""
    text: str = ""
    at: str = ""


# Channels a person may record a contact on (ingest and helpdesks name theirs freely).
CONTACT_CHANNELS = ("phone", "email", "dm", "chat", "letter", "in_person", "other")


@dataclasses.dataclass
class ContactAction:
    """A supervisor records the customer's contact: {"by": "dana", "channel": "phone",
    "note": "called, refund agreed"}."""

    by: str = ""
    channel: str = "phone"
    note: str = ""


@dataclasses.dataclass
class ContactRecord:
    """One contact the case heard of: on which channel, when, who recorded it, what was said."""

    channel: str
    at: str
    by: str
    text: str = ""


@dataclasses.dataclass
class CaseEvent:
    """A named event a playbook can `await` (e.g. {"name": "refund_issued"})."""

    name: str = ""
    by: str = ""


@dataclasses.dataclass(frozen=True)
class ActionRequest:
    """What an activity must do for one step; `key` makes retries idempotent."""

    case_id: str
    step_id: str
    kind: str
    platform: str
    thread_id: str
    mention_id: str
    author_id: str = ""
    author_handle: str = ""
    text: str = ""
    via: str = ""
    target: str = ""
    priority: str = ""
    action: str = ""
    key: str = ""
    account_id: str = ""  # the brand's own account on this platform (page id, user id)
    # A case opened by a private message answers in that conversation (replies and the
    # handoff are messages to `author_id`); `customer_wrote_at` (ISO 8601) is when the
    # customer last wrote in it, which decides what Messenger and Instagram allow.
    conversation: bool = False
    customer_wrote_at: str = ""
    policy: str = ""  # the policy's name (the brand), where the store keys what it learns
    # A shared activity may already have made this call (its outcome was unknown): even a
    # first attempt looks for what it may have done before posting.
    tried: bool = False


@dataclasses.dataclass(frozen=True)
class ActionResult:
    """What the platform returned: the id of the post, message or ticket made."""

    ref: str = ""
    detail: str = ""
    # Who a private reply reached, as the platform names them in private conversations
    # (Messenger's PSID, Instagram's IGSID): their later messages come from this id.
    recipient: str = ""


@dataclasses.dataclass(frozen=True)
class AuditEntry:
    """One line of the case's audit trail: who did what, when (workflow time, ISO 8601)."""

    at: str
    who: str
    what: str
    step: str = ""
    detail: str = ""


@dataclasses.dataclass(frozen=True)
class PendingApproval:
    """A step waiting for a supervisor, with the text that would be posted."""

    step: str
    kind: str
    draft: str
    requested_at: str
    deadline: str
    approvers: tuple[str, ...] = ()


@dataclasses.dataclass
class CaseState:
    """Everything about a case, as the `state` query returns it."""

    case_id: str
    status: CaseStatus
    platform: str
    thread_id: str
    author: str
    score: float
    route: str
    playbook: str
    policy: str
    priority: str
    current_step: str = ""
    pending: PendingApproval | None = None
    resolved: bool = False
    contacted: bool = False
    # Each contact (bounded: the first and the latest ones), and the case's short reference.
    contacts: list[ContactRecord] = dataclasses.field(default_factory=list)
    ref: str = ""
    escalated: bool = False
    thanked: bool = False
    posted_at: str = ""
    sla_due: str = ""
    sla_breached: bool = False
    first_response_at: str = ""
    ticket_id: str = ""
    replies: list[str] = dataclasses.field(default_factory=list)
    mentions: list[str] = dataclasses.field(default_factory=list)
    events: list[str] = dataclasses.field(default_factory=list)
    audit: list[AuditEntry] = dataclasses.field(default_factory=list)
    closed_reason: str = ""
    language: str = ""  # the complaint's language (ISO 639-1), as triage identified it
    language_confidence: float = 0.0
    # Entries left out of `audit` (the oldest after the first few) to keep the state bounded.
    audit_dropped: int = 0
    # Posts seen in the thread (`mentions` keeps only the latest ids).
    mention_count: int = 0
    # The first decision saying whether the post was a complaint ("a complaint (approve by
    # ann)"): the case's label, given once.
    labelled: str = ""


@dataclasses.dataclass
class Resume:
    """Where a case that continued as new (its history grew long) picks up."""

    state: CaseState
    step_index: int  # the step to run (again) first: it had not acted yet
    decided: dict[str, str] = dataclasses.field(default_factory=dict)
    sla_levels_done: int = 0
    wait_until: str = ""  # the deadline of the wait that step was in, if any
    approved_ahead: dict[str, str] = dataclasses.field(default_factory=dict)  # step -> by


@dataclasses.dataclass(frozen=True)
class PollRequest:
    """Fetch the brand's mentions newer than `since_id` ('' = the latest page)."""

    user_id: str
    since_id: str = ""


@dataclasses.dataclass(frozen=True)
class PollResult:
    """A page of new mentions, oldest first, and the newest id among them."""

    mentions: tuple[Mention, ...] = ()
    newest_id: str = ""

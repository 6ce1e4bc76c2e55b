"""Which activity carries out each kind of step, by name.

The workflow calls activities only by these names and adapters register under them, so a new
platform's adapter plugs in without touching the workflow. A step kind names its activity in
its spec (complaintflow/rules/steps/), and `STEP_ACTIVITIES` is read from the specs; the
kind's runner is in `RUNNERS` (workflows/case/steps.py).
"""

from __future__ import annotations

from complaintflow.rules.model import StepKind
from complaintflow.rules.steps import STEP_SPECS
from complaintflow.rules.steps.handoff import SEND_PRIVATE_MESSAGE
from complaintflow.rules.steps.notify import NOTIFY
from complaintflow.rules.steps.remove_public import ARCHIVE_POST, REMOVE_POST
from complaintflow.rules.steps.reply import POST_REPLY
from complaintflow.rules.steps.ticket import OPEN_TICKET

POLL_X_MENTIONS = "complaintflow.poll_x_mentions"
INGEST_MENTIONS = "complaintflow.ingest_mentions"

STEP_ACTIVITIES: dict[StepKind, str] = {
    kind: spec.activity for kind, spec in STEP_SPECS.items() if spec.activity is not None
}
# Every action a case asks of an adapter (the action webhook sends each): the step kinds'
# activities, and the archive a removal makes first.
ALL_ACTIVITIES = tuple(dict.fromkeys([*STEP_ACTIVITIES.values(), ARCHIVE_POST]))

__all__ = [
    "ALL_ACTIVITIES",
    "ARCHIVE_POST",
    "INGEST_MENTIONS",
    "NOTIFY",
    "OPEN_TICKET",
    "POLL_X_MENTIONS",
    "POST_REPLY",
    "REMOVE_POST",
    "SEND_PRIVATE_MESSAGE",
    "STEP_ACTIVITIES",
]

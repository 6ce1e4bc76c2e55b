"""Steps that share one activity: what a case asks of it and what it answers.

A case that goes on without waiting (approved: reply, hand off, record the label) makes its
calls in one activity instead of one each: each activity is a billed action on Temporal
Cloud, and the calls take moments. The activity (activities/together.py) makes each call as
its own activity would, in order, and answers for each; a call worth retrying is retried by
the case as its own activity, so one slow service never holds up the others.
"""

from __future__ import annotations

import dataclasses

from complaintflow.learning.labels import Label
from complaintflow.workflows.messages import ActionRequest, ActionResult

RUN_STEPS = "complaintflow.run_steps"

DONE = "done"
FAILED = "failed"  # for good: the platform refused it
RETRY = "retry"  # may succeed later: the case runs it again as its own activity
SKIPPED = "skipped"  # an earlier call of the same step did not succeed


@dataclasses.dataclass(frozen=True)
class StepCall:
    """One call: the activity to run and its argument (a step's request, or a label).

    `step` groups the calls of one step (a removal archives, then hides): after a call of a
    step that does not succeed, the step's later calls are skipped.
    """

    activity: str
    step: int
    request: ActionRequest | None = None
    label: Label | None = None


@dataclasses.dataclass(frozen=True)
class CallOutcome:
    """What came of one call: DONE with its result, FAILED or RETRY with the error, SKIPPED."""

    outcome: str
    result: ActionResult | None = None
    error: str = ""

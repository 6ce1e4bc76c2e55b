"""A case's label: the first supervisor decision that says whether it was a complaint.

Approving or editing a reply or a handoff, resolving the case and the customer's contact say
it was one; dismissing it says it was not. Only the first counts (the state keeps it across
continue-as-new); the label activity writes it once, keyed by brand and mention in the store.
"""

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from complaintflow.learning.labels import RECORD_LABEL, SOURCES, Label
    from complaintflow.rules.model import StepKind
    from complaintflow.workflows.case.running import CaseRun, clip
    from complaintflow.workflows.messages import Refused, SupervisorAction

# Steps whose approval says the post was a complaint: answering the customer.
ANSWERS = (StepKind.REPLY.value, StepKind.HANDOFF.value)
# A store that is down delays the label, never loses it: retried until it is written.
LABEL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)
)


class Labelling:
    """The label a case gives, and the task that writes it (None for cases started before
    labels were recorded: their histories replay without the activity)."""

    def __init__(self, run: CaseRun) -> None:
        self.run = run
        self.label: Label | None = None
        self.finished = False
        self.task: asyncio.Task[None] | None = None
        # New cases write the label with the steps it comes before (workflows/case/stretch.py)
        # and on their own only when the case waits or ends: `claimed` while one is writing it.
        self.claimed = False
        self.done = False
        run.labelling = self

    def start(self) -> None:
        self.task = asyncio.create_task(self._write_owed() if self.run.together else self._write())

    def claim(self) -> Label | None:
        """The label owed, for a stretch of steps to write (None: nothing owed, or taken)."""
        if self.task is None or self.label is None or self.done or self.claimed:
            return None
        self.claimed = True
        return self.label

    def release(self) -> None:
        """The stretch did not write it: written on its own when the case next waits."""
        self.claimed = False

    def written(self) -> None:
        self.claimed = False
        self.done = True

    def _owed(self) -> bool:
        return self.label is not None and not self.done and not self.claimed

    def give(self, source: str, by: str) -> None:
        """Label the case's mention by `source` ("approve", "dismiss", ...), unless labelled."""
        run = self.run
        if run.state.labelled:
            return
        value = SOURCES[source]
        what = "a complaint" if value else "not a complaint"
        run.state.labelled = f"{what} ({source} by {clip(by, 100)})"
        mention = run.case.mention
        self.label = Label(
            policy=run.policy.name,
            platform=mention.platform,
            mention_id=mention.id,
            text=mention.text,
            label=value,
            source=source,
            by=clip(by, 100),
            time=workflow.now().isoformat(),
            case_id=run.state.case_id,
        )

    def answered(self, kind: str, by: str) -> None:
        """A decision on the step waiting for approval: approving an answer is a label."""
        pending = self.run.state.pending
        if kind in ("approve", "edit") and pending is not None and pending.kind in ANSWERS:
            self.give(kind, by)

    async def finish(self) -> None:
        """Wait until the label given (if any) is written."""
        self.finished = True
        if self.task is not None:
            await self.task

    async def _write_owed(self) -> None:
        """Write the label when the case waits (or ends) with it still owed."""
        run = self.run
        while True:
            await workflow.wait_condition(
                lambda: (self.finished and not self.claimed) or (self._owed() and run.parked)
            )
            await asyncio.sleep(0)  # a run woken at this moment takes it with its next steps
            if not self._owed():
                if self.finished and not self.claimed:
                    return
                continue
            if not (self.finished or run.parked):
                continue
            self.claimed = True
            await self._record(self.label)
            self.written()
            if self.finished:
                return

    async def _write(self) -> None:
        await workflow.wait_condition(lambda: self.label is not None or self.finished)
        if self.label is None:
            return
        await self._record(self.label)

    async def _record(self, label: Label | None) -> None:
        await workflow.execute_activity(
            RECORD_LABEL,
            label,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=LABEL_RETRY,
            summary="record the supervisor's label",
        )


def check_dismiss(run: CaseRun, action: SupervisorAction) -> None:
    """The case is open and no decision already said it was a complaint."""
    if not action.by.strip():
        raise Refused('say who you are: add "by": "YOUR NAME" to the payload')
    if run.closed:
        raise Refused(f"case {run.state.case_id} is closed")
    if run.state.labelled:
        raise Refused(
            f"case {run.state.case_id} is already labelled {run.state.labelled}; close it instead"
        )

"""MentionPoller: for a platform without webhooks (X mentions), poll on a timer, durably.

The cursor (the newest post id seen) lives in the workflow, so a worker crash or a restart
resumes exactly where polling stopped; each page of new mentions is handed to ingest (the same
triage, enrichment and case start as webhooks). The history is kept short with continue-as-new.
"""

import dataclasses
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from complaintflow.workflows import registry
    from complaintflow.workflows.messages import PollRequest, PollResult

POLLS_PER_RUN = 100


@dataclasses.dataclass(frozen=True)
class PollerInput:
    """Whose mentions to poll, how often, and where the last run stopped."""

    user_id: str
    interval_seconds: int = 60
    since_id: str = ""
    polls: int = 0


@workflow.defn(name="MentionPoller")
class MentionPoller:
    """Polls the brand's X mentions and hands new ones to ingest."""

    def __init__(self) -> None:
        self.since_id = ""

    @workflow.run
    async def run(self, start: PollerInput) -> None:
        self.since_id = start.since_id
        for _ in range(POLLS_PER_RUN):
            page: PollResult = await workflow.execute_activity(
                registry.POLL_X_MENTIONS,
                PollRequest(start.user_id, self.since_id),
                result_type=PollResult,
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
            )
            if page.mentions:
                await workflow.execute_activity(
                    registry.INGEST_MENTIONS,
                    page,
                    start_to_close_timeout=timedelta(minutes=2),
                    retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
                )
                self.since_id = page.newest_id  # only after ingest accepted the page
            await workflow.sleep(timedelta(seconds=start.interval_seconds))
        workflow.continue_as_new(
            dataclasses.replace(start, since_id=self.since_id, polls=start.polls + POLLS_PER_RUN)
        )

    @workflow.query(description="The newest post id handed to ingest so far.")
    def cursor(self) -> str:
        return self.since_id

"""SpikeWatch: one look at a brand's complaint rate, run by a Temporal Schedule.

The count and the spike's state live in the decision store (the check activity); when the
check says a new spike began, the team is told once through the notify activity.
"""

import dataclasses
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from complaintflow.workflows import registry
    from complaintflow.workflows.messages import ActionRequest, ActionResult

CHECK_SPIKE = "complaintflow.check_spike"


@dataclasses.dataclass(frozen=True)
class SpikeSettings:
    """A policy's `alerts.spike`, with the defaults filled in."""

    policy: str
    window_seconds: int = 900
    baseline_seconds: int = 7 * 86400
    factor: float = 3.0
    minimum: int = 10
    check_every_seconds: int = 60
    via: str = "slack"
    target: str = ""


@dataclasses.dataclass(frozen=True)
class SpikeResult:
    """What the check found (the activity's answer and the workflow's result)."""

    complaints: int
    expected: float
    spiking: bool
    alert: bool


@workflow.defn(name="SpikeWatch")
class SpikeWatch:
    @workflow.run
    async def run(self, settings: SpikeSettings) -> SpikeResult:
        found: SpikeResult = await workflow.execute_activity(
            CHECK_SPIKE,
            settings,
            result_type=SpikeResult,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=3),
        )
        if found.alert:
            window = settings.window_seconds // 60
            text = (
                f"Complaint spike for {settings.policy}: {found.complaints} in the last "
                f"{window} min, about {found.expected:g} usual."
            )
            spike_id = f"spike-{settings.policy}-{workflow.info().workflow_id}"
            await workflow.execute_activity(
                registry.NOTIFY,
                ActionRequest(
                    case_id=spike_id,
                    step_id="spike",
                    kind="notify",
                    platform="",
                    thread_id="",
                    mention_id="",
                    text=text,
                    via=settings.via,
                    target=settings.target,
                    priority="high",
                    key=spike_id,
                ),
                result_type=ActionResult,
                start_to_close_timeout=timedelta(seconds=60),
            )
        return found

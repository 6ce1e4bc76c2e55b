"""Retrain: one weekly look at whether a brand's labels make a better model, run by a
Temporal Schedule (`complaintflow retrain --policy FILE`).

The activity exports the brand's labels, trains a candidate on the built-in examples plus the
older ones and compares it with the live model on the newest; the team is told the comparison
and the one-line policy change that would promote it, or why not. Going live stays a change
a person makes to the policy file.
"""

import dataclasses
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from complaintflow.workflows import registry
    from complaintflow.workflows.messages import ActionRequest, ActionResult

RETRAIN_CANDIDATE = "complaintflow.retrain_candidate"


@dataclasses.dataclass(frozen=True)
class RetrainSettings:
    """Which policy to retrain for, where candidates go, and whom to tell."""

    policy: str  # its name: the brand's labels in the store
    policy_file: str  # the file, as the worker sees it
    out_dir: str  # where candidates are written (one file per run)
    min_labels: int = 100  # held-out labels needed to judge a candidate
    every_seconds: int = 7 * 86400
    via: str = "slack"
    target: str = ""


@dataclasses.dataclass(frozen=True)
class RetrainResult:
    promote: bool
    report: str  # the comparison, or why there is none
    candidate: str = ""  # the file written ("" when none)


@workflow.defn(name="Retrain")
class Retrain:
    @workflow.run
    async def run(self, settings: RetrainSettings) -> RetrainResult:
        result: RetrainResult = await workflow.execute_activity(
            RETRAIN_CANDIDATE,
            settings,
            result_type=RetrainResult,
            start_to_close_timeout=timedelta(minutes=30),
            retry_policy=RetryPolicy(maximum_attempts=2),
        )
        run_id = f"retrain-{settings.policy}-{workflow.info().workflow_id}"
        head = "A retrained model is ready" if result.promote else "No model to promote"
        await workflow.execute_activity(
            registry.NOTIFY,
            ActionRequest(
                case_id=run_id,
                step_id="retrain",
                kind="notify",
                platform="",
                thread_id="",
                mention_id="",
                text=f"{head} for {settings.policy}.\n{result.report}"[:3000],
                via=settings.via,
                target=settings.target,
                priority="normal",
                key=run_id,
            ),
            result_type=ActionResult,
            start_to_close_timeout=timedelta(seconds=60),
        )
        return result

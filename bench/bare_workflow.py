"""The baseline for bench/cases.py: a plain sandboxed workflow running N no-op activities."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="noop")
async def noop(step: int) -> int:
    return step


@workflow.defn(name="Bare")
class Bare:
    @workflow.run
    async def run(self, steps: int) -> int:
        for step in range(steps):
            await workflow.execute_activity(
                "noop", step, start_to_close_timeout=timedelta(seconds=30)
            )
        return steps


@workflow.defn(name="BareReply")
class BareReply:
    """The floor for bench/latency.py: notify the team, then answer in the thread."""

    @workflow.run
    async def run(self, tweet_id: str) -> None:
        for step in ("bare_notify", "bare_reply"):
            await workflow.execute_activity(
                step, tweet_id, start_to_close_timeout=timedelta(seconds=30)
            )

"""The baseline for bench/cases.py: a plain sandboxed workflow running N no-op activities."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

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


@workflow.defn(name="BareListener")
class BareListener:
    """The floor for bench/activation.py: a workflow that only counts the signals it gets."""

    def __init__(self) -> None:
        self.heard = 0
        self.done = False

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.done)
        return self.heard

    @workflow.signal(name="thread_update")
    def thread_update(self, _post: Any) -> None:
        self.heard += 1

    @workflow.signal(name="stop")
    def stop(self) -> None:
        self.done = True

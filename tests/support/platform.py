"""Activity doubles for the case workflow: they record every request, in order, answer like a
platform would (or fail like one refusing), and run in a worker set up in one call; or a
worker whose real adapters call the emulator."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from complaintflow.devkit.stack import emulated_adapters
from complaintflow.worker import build_worker
from complaintflow.workflows import registry
from complaintflow.workflows.messages import ActionRequest, ActionResult


@dataclasses.dataclass
class Platform:
    """Activity doubles: record every request, in order, and answer like a platform would."""

    calls: list[tuple[str, ActionRequest]] = dataclasses.field(default_factory=list)
    failing: set[str] = dataclasses.field(default_factory=set)

    def of(self, name: str) -> list[ActionRequest]:
        return [request for called, request in self.calls if called == name]

    def names(self) -> list[str]:
        return [called.removeprefix("complaintflow.") for called, _ in self.calls]

    def activities(self) -> list[Callable[[ActionRequest], Awaitable[ActionResult]]]:
        def double(name: str) -> Callable[[ActionRequest], Awaitable[ActionResult]]:
            @activity.defn(name=name)
            async def run(request: ActionRequest) -> ActionResult:
                self.calls.append((name, request))
                if name in self.failing:
                    raise ApplicationError("403 Forbidden: not allowed", non_retryable=True)
                await asyncio.sleep(0)
                return ActionResult(ref=f"{name.rsplit('.', 1)[-1]}-{len(self.calls)}")

            return run

        return [double(name) for name in registry.ALL_ACTIVITIES]

    def worker(self, client: Client, task_queue: str) -> Worker:
        """A case worker on `task_queue` whose activities are these doubles."""
        return build_worker(client, activities=self.activities(), task_queue=task_queue)


def emulated_worker(
    client: Client, task_queue: str, url: str, archive_dir: Path, *, http: httpx.AsyncClient
) -> Worker:
    """A case worker whose real adapters call the emulator at `url` (token "tok")."""
    activities = emulated_adapters(url, "tok", archive_dir, client=http)
    return build_worker(client, activities=activities, task_queue=task_queue)

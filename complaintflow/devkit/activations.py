"""How long each workflow activation takes: what Temporal's deadlock detector watches.

A worker fails any workflow task whose activation has not yielded within 2 seconds (TMPRL1101);
`TimedRunner` wraps the worker's workflow runner and records each activation's wall time, for
the activation benchmark and the simulator's check that activations stay small.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails, WorkflowRunner

DEADLOCK_SECONDS = 2.0  # the Python SDK's deadlock timeout for one activation


@dataclasses.dataclass
class ActivationTimes:
    """Wall seconds of every activation, with the jobs each carried (e.g. signalWorkflow)."""

    seconds: list[float] = dataclasses.field(default_factory=list)
    jobs: list[tuple[str, ...]] = dataclasses.field(default_factory=list)

    def quantile(self, q: float) -> float:
        """The `q` quantile (0..1) of the activation times; 0.0 before any."""
        if not self.seconds:
            return 0.0
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def slowest(self) -> tuple[float, tuple[str, ...]]:
        """The slowest activation's seconds and its jobs."""
        if not self.seconds:
            return 0.0, ()
        index = max(range(len(self.seconds)), key=self.seconds.__getitem__)
        return self.seconds[index], self.jobs[index]


class TimedRunner(WorkflowRunner):
    """A workflow runner that times every activation of the runner it wraps."""

    def __init__(self, inner: WorkflowRunner, times: ActivationTimes | None = None) -> None:
        self.inner = inner
        self.times = times if times is not None else ActivationTimes()

    def prepare_workflow(self, defn: Any) -> None:
        self.inner.prepare_workflow(defn)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _TimedInstance(self.inner.create_instance(det), self.times)

    def set_worker_level_failure_exception_types(self, types: Any) -> None:
        self.inner.set_worker_level_failure_exception_types(types)


class _TimedInstance(WorkflowInstance):
    def __init__(self, inner: WorkflowInstance, times: ActivationTimes) -> None:
        self.inner = inner
        self.times = times

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        started = time.perf_counter()
        try:
            return self.inner.activate(act)
        finally:
            self.times.seconds.append(time.perf_counter() - started)
            self.times.jobs.append(tuple(job.WhichOneof("variant") or "" for job in act.jobs))

    def get_serialization_context(self, command_info: Any) -> Any:
        return self.inner.get_serialization_context(command_info)

    def get_external_store_context(self, command_info: Any) -> Any:
        return self.inner.get_external_store_context(command_info)

    def get_info(self) -> Any:
        return self.inner.get_info()

    def get_thread_id(self) -> int | None:
        return self.inner.get_thread_id()

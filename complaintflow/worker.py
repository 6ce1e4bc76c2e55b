"""Builds the Temporal worker that runs case workflows and their activities.

Workers connect with Temporal's standard environment configuration (TEMPORAL_ADDRESS,
TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS settings and profiles in the Temporal config file).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from temporalio.api.failure.v1 import Failure
from temporalio.client import Client
from temporalio.converter import DataConverter, DefaultFailureConverter, PayloadConverter
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from complaintflow.metrics import ActivityOutcomes
from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.messages import Refused
from complaintflow.workflows.poller import MentionPoller
from complaintflow.workflows.spikes import SpikeWatch

DEFAULT_TASK_QUEUE = "complaintflow"


class _PlainRefusals(DefaultFailureConverter):
    """A refused update shows the supervisor its reason, not the Python stack behind it."""

    def to_failure(
        self, exception: BaseException, payload_converter: PayloadConverter, failure: Failure
    ) -> None:
        super().to_failure(exception, payload_converter, failure)
        if isinstance(exception, Refused):
            failure.stack_trace = ""


# Clients that run workers (and so validate updates) connect with this converter.
DATA_CONVERTER = dataclasses.replace(DataConverter.default, failure_converter_class=_PlainRefusals)


def workflow_runner() -> SandboxedWorkflowRunner:
    """The sandbox for case workflows: calls that break determinism stay forbidden, but
    modules are imported once per process rather than once per workflow run.

    The workflow modules keep no mutable module state but one bounded, locked cache of compiled
    programs keyed by policy content hash (`rules.compiler.programs_for`), whose entries are a
    pure function of their key, so sharing them is safe; it halves the
    memory of each cached case (346 -> 188 KiB, bench/scale.py) and speeds up starts, and the
    policy engine's native CEL module cannot be imported twice anyway.
    """
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_all_modules()
    )


def build_worker(
    client: Client,
    *,
    activities: Sequence[Callable[..., Any]],
    task_queue: str = DEFAULT_TASK_QUEUE,
    max_cached_workflows: int = 1000,
    max_concurrent_workflow_tasks: int | None = None,
    max_concurrent_activities: int | None = None,
    graceful_shutdown_timeout: timedelta = timedelta(seconds=30),
) -> Worker:
    """A worker for case (and mention poller) workflows with the given activities."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[CaseWorkflow, MentionPoller, SpikeWatch],
        workflow_runner=workflow_runner(),
        activities=list(activities),
        max_cached_workflows=max_cached_workflows,
        max_concurrent_workflow_tasks=max_concurrent_workflow_tasks,
        max_concurrent_activities=max_concurrent_activities,
        graceful_shutdown_timeout=graceful_shutdown_timeout,
        interceptors=[ActivityOutcomes()],
    )

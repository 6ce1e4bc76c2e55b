"""Builds the Temporal worker that runs case workflows, and the composition root that picks its
activities (which adapters, with which credentials: `adapters_from_environment`).

Workers connect with Temporal's standard environment configuration (TEMPORAL_ADDRESS,
TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS settings and profiles in the Temporal config file).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.worker import Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from complaintflow.activities.operations import Operations, OperationsConfig
from complaintflow.activities.platforms import Endpoints, Platforms
from complaintflow.client import DEFAULT_TASK_QUEUE
from complaintflow.codec.converter import DATA_CONVERTER
from complaintflow.metrics import ActivityOutcomes
from complaintflow.platforms.credentials import TokenStore
from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.poller import MentionPoller
from complaintflow.workflows.retrain import Retrain
from complaintflow.workflows.spikes import SpikeWatch

__all__ = [
    "DATA_CONVERTER",
    "DEFAULT_TASK_QUEUE",
    "Adapters",
    "adapters_from_environment",
    "build_worker",
]


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
    runner: WorkflowRunner | None = None,
) -> Worker:
    """A worker for case (and mention poller) workflows with the given activities; `runner`
    replaces the workflow sandbox (e.g. a devkit.activations.TimedRunner wrapping it)."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[CaseWorkflow, MentionPoller, SpikeWatch, Retrain],
        workflow_runner=runner or workflow_runner(),
        activities=every_activity(activities),
        max_cached_workflows=max_cached_workflows,
        max_concurrent_workflow_tasks=max_concurrent_workflow_tasks,
        max_concurrent_activities=max_concurrent_activities,
        graceful_shutdown_timeout=graceful_shutdown_timeout,
        interceptors=[ActivityOutcomes()],
    )


def every_activity(activities: Sequence[Callable[..., Any]]) -> list[Callable[..., Any]]:
    """`activities` and what every worker must run besides: the label recorder (unless one is
    there: a case never waits on a label no worker can write) and the shared activity that
    makes several steps' calls in one (workflows/together.py), over all of them."""
    from complaintflow.activities.labels import LabelRecorder
    from complaintflow.activities.together import by_name, steps_together
    from complaintflow.learning.labels import RECORD_LABEL
    from complaintflow.workflows.together import RUN_STEPS

    found = list(activities)
    names = by_name(found)
    if RECORD_LABEL not in names:
        found += LabelRecorder().activities()
    if RUN_STEPS not in names:
        found.append(steps_together(found))
    return found


@dataclasses.dataclass
class Adapters:
    """The activities a worker runs, the HTTP clients to close when it stops, and the
    platform credentials the environment lacks (calls needing them will fail)."""

    activities: list[Callable[..., Any]]
    clients: list[httpx.AsyncClient]
    missing: list[str] = dataclasses.field(default_factory=list)

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()


def adapters_from_environment(
    actions: str = "platforms",
    *,
    endpoints: Endpoints | None = None,
    operations: OperationsConfig | None = None,
    client: httpx.AsyncClient | None = None,
    token_store: TokenStore | None = None,
    background: bool = True,
) -> Adapters:
    """The production composition root: which adapters a worker runs, with which credentials.

    `actions` "webhook": every action is posted to COMPLAINTFLOW_ACTIONS_URL (ValueError when
    it is not configured). "platforms": the platform adapters (X, Graph, Google) and the
    operations adapters (Slack, Zendesk, notify and ticket webhooks, archive), with endpoints
    and credentials from the environment unless `endpoints` / `operations` are given (the dev
    kit gives its emulator's), sharing `client` and `token_store` when given. With
    `background`, also what background workflows use: the X mention poller, the forwarding of
    polled mentions to ingest (COMPLAINTFLOW_INGEST_URL) and, with COMPLAINTFLOW_DATABASE_URL,
    the spike checks on the decision store (StoreError when it cannot be opened).
    """
    if actions == "webhook":
        from complaintflow.activities.webhook import ActionWebhook

        webhook = ActionWebhook.from_environment()
        adapters = Adapters(webhook.activities(), [webhook.client])
    else:
        adapters = _platform_adapters(
            endpoints or Endpoints.from_environment(),
            operations or OperationsConfig.from_environment(),
            client=client,
            token_store=token_store,
            background=background,
        )
    if background:
        adapters.activities += _spike_checks()
    return adapters


def _platform_adapters(
    endpoints: Endpoints,
    config: OperationsConfig,
    *,
    client: httpx.AsyncClient | None,
    token_store: TokenStore | None,
    background: bool,
) -> Adapters:
    platforms = Platforms(endpoints, client=client, store=token_store)
    operations = Operations(config, client=client)
    pollers = platforms.poller_activities() if background else []
    adapters = Adapters(
        [*platforms.activities(), *pollers, *operations.activities()],
        [platforms.client, operations.client],
        missing=platforms.missing(),
    )
    if background:
        from complaintflow.activities.forward import IngestForwarder

        forwarder = IngestForwarder.from_environment()
        if forwarder is not None:  # polled mentions go to ingest like webhooks
            adapters.activities += forwarder.activities()
            adapters.clients.append(forwarder.client)
    return adapters


def _spike_checks() -> list[Callable[..., Any]]:
    """The spike check activity, when the worker is given the decision store."""
    from complaintflow.store import DATABASE_URL, StoreError, open_store

    if not os.environ.get(DATABASE_URL):
        return []
    from complaintflow.activities.spikes import SpikeChecks

    try:
        store = open_store(None)
    except (ValueError, StoreError):
        raise
    except Exception as exc:  # sqlite3 / psycopg connection errors, a file it cannot open
        raise StoreError(str(exc)) from exc
    return SpikeChecks(store).activities()

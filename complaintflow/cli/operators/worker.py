"""`worker`, `poll-x` and `alerts`: run a worker with the adapters the environment
configures, and start the durable work it runs in the background (X polling, spike alerts)."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from pathlib import Path
from typing import Any

from complaintflow.cli.common import OK, positive, run_temporal
from complaintflow.cli.options import log_format_option, temporal_options
from complaintflow.errors import CommandFailed, UsageError

_TUNING = (
    ("max-cached-workflows", 1000, "cases kept in memory between their steps"),
    ("max-concurrent-workflow-tasks", 100, "workflow tasks run at once"),
    ("max-concurrent-activities", 100, "platform calls in flight at once"),
)


def register(commands: Any) -> None:
    """worker, poll-x, alerts."""
    worker = commands.add_parser(
        "worker", help="run a worker: case workflows, actions posted to the actions webhook"
    )
    temporal_options(worker, task_queue=True)
    worker.add_argument(
        "--metrics-port",
        type=int,
        default=int(os.environ.get("COMPLAINTFLOW_METRICS_PORT", "0") or 0),
        help="serve Prometheus metrics (the SDK's and activity outcomes) on this port "
        "(default: $COMPLAINTFLOW_METRICS_PORT; none)",
    )
    worker.add_argument(
        "--actions",
        choices=["platforms", "webhook"],
        default=os.environ.get("COMPLAINTFLOW_ACTIONS", "platforms"),
        help="platforms: call X/Graph/Slack/Zendesk (COMPLAINTFLOW_X_TOKEN, ...); webhook: post "
        "every action to COMPLAINTFLOW_ACTIONS_URL (default: $COMPLAINTFLOW_ACTIONS or platforms)",
    )
    log_format_option(worker)
    tuning = worker.add_argument_group("tuning (see README, 'Sizing a worker')")
    for flag, default, text in _TUNING:
        variable = "COMPLAINTFLOW_" + flag.upper().replace("-", "_")
        tuning.add_argument(
            f"--{flag}",
            type=positive,
            default=os.environ.get(variable, str(default)),  # parsed (and checked) by type
            help=f"{text} (default: ${variable} or {default})",
        )
    worker.set_defaults(handler=_worker)

    poll = commands.add_parser("poll-x", help="start polling the brand's X mentions (durable)")
    poll.add_argument("--user-id", required=True, help="the brand's X user id")
    poll.add_argument("--interval", type=int, default=60, help="seconds between polls")
    temporal_options(poll, task_queue=True)
    poll.set_defaults(handler=_poll_x)

    alerts = commands.add_parser(
        "alerts", help="schedule a policy's spike alerts (a Temporal Schedule checking the store)"
    )
    alerts.add_argument("--policy", type=Path, required=True, help="a policy with alerts.spike")
    temporal_options(alerts, task_queue=True)
    alerts.set_defaults(handler=_alerts)


def _adapters(actions: str) -> Any:
    """The environment's adapters; what is missing or unreadable as a message."""
    from complaintflow.store import StoreError
    from complaintflow.worker import adapters_from_environment

    try:
        return adapters_from_environment(actions)
    except ValueError as exc:  # the actions webhook or the store URL is not usable
        raise UsageError(str(exc)) from None
    except StoreError as exc:
        raise CommandFailed(f"cannot open the decision store: {exc}") from None


def _worker(args: argparse.Namespace) -> int:
    import structlog

    from complaintflow.logs import configure

    configure(json_output=None if args.log_format is None else args.log_format == "json")
    log = structlog.get_logger()
    adapters = _adapters(args.actions)
    if adapters.missing:
        log.warning("worker.credentials_missing", missing=adapters.missing)

    async def run() -> None:
        await _run_worker(args, adapters, log)

    run_temporal(run)
    return OK


async def _run_worker(args: argparse.Namespace, adapters: Any, log: Any) -> None:
    """Run until SIGTERM/SIGINT, then drain the worker and close the adapters' clients."""
    from complaintflow.client.cases import connect
    from complaintflow.worker import build_worker

    client = await connect(args.profile, runtime=_metrics_runtime(args.metrics_port))
    worker = build_worker(
        client,
        activities=adapters.activities,
        task_queue=args.task_queue,
        max_cached_workflows=args.max_cached_workflows,
        max_concurrent_workflow_tasks=args.max_concurrent_workflow_tasks,
        max_concurrent_activities=args.max_concurrent_activities,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    running = asyncio.create_task(worker.run())
    log.info(
        "worker.started",
        task_queue=args.task_queue,
        address=client.service_client.config.target_host,
        namespace=client.namespace,
    )
    waiting = asyncio.create_task(stop.wait())
    await asyncio.wait({running, waiting}, return_when=asyncio.FIRST_COMPLETED)
    log.info("worker.draining")
    await worker.shutdown()
    waiting.cancel()
    await adapters.aclose()
    log.info("worker.stopped")


def _metrics_runtime(port: int) -> Any:
    """A Temporal runtime exporting Prometheus metrics on `port` (None: the default runtime)."""
    if not port:
        return None
    from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

    return Runtime(
        telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"0.0.0.0:{port}"))
    )


def _poll_x(args: argparse.Namespace) -> int:
    from temporalio.common import WorkflowIDConflictPolicy

    from complaintflow.client.cases import connect
    from complaintflow.workflows.poller import MentionPoller, PollerInput

    if args.interval < 5:
        raise UsageError("--interval must be at least 5 seconds (X rate limits)")

    async def run() -> str:
        client = await connect(args.profile)
        handle = await client.start_workflow(
            MentionPoller.run,
            PollerInput(args.user_id, args.interval),
            id=f"poller-x-{args.user_id}",
            task_queue=args.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        return handle.id

    print(
        f"polling X mentions of {args.user_id} every {args.interval}s: workflow "
        f"{run_temporal(run)} (one per account; running again keeps the existing one)"
    )
    return OK


def _alerts(args: argparse.Namespace) -> int:
    from complaintflow.client.alerts import NoSpikeAlert, schedule_spike_alerts, spike_settings
    from complaintflow.client.cases import connect

    try:
        settings = spike_settings(args.policy)
    except NoSpikeAlert as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot read {args.policy}: {exc.strerror}") from None

    async def run() -> str:
        client = await connect(args.profile)
        return await schedule_spike_alerts(client, settings, args.task_queue)

    print(
        f"schedule {run_temporal(run)}: every {settings.check_every_seconds}s, alert when "
        f"{settings.policy}'s complaints in {settings.window_seconds // 60} min reach "
        f"{settings.minimum} and {settings.factor:g}x the usual rate (workers need "
        "COMPLAINTFLOW_DATABASE_URL to check)"
    )
    return OK

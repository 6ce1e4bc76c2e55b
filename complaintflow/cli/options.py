"""Options several commands share, each declared once: the Temporal connection (profile,
task queue), the decision store, log format, and where mentions come from (stream, CSV columns)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from complaintflow.client import DEFAULT_TASK_QUEUE

TASK_QUEUE_VARIABLE = "COMPLAINTFLOW_TASK_QUEUE"


def temporal_options(command: argparse.ArgumentParser, *, task_queue: bool = False) -> None:
    """`--profile` (the Temporal config profile) and, with `task_queue`, `--task-queue`."""
    if task_queue:
        command.add_argument(
            "--task-queue",
            default=os.environ.get(TASK_QUEUE_VARIABLE, DEFAULT_TASK_QUEUE),
            help=f"task queue (default: ${TASK_QUEUE_VARIABLE} or {DEFAULT_TASK_QUEUE})",
        )
    command.add_argument("--profile", help="Temporal config profile (default: environment)")


def database_option(command: argparse.ArgumentParser) -> None:
    """`--database`: the decision store's URL."""
    command.add_argument(
        "--database",
        metavar="URL",
        help="the decision store: sqlite:///PATH or postgresql://... (default: "
        "$COMPLAINTFLOW_DATABASE_URL, else complaintflow.db in .complaintflow or, for serve, "
        "beside --decision-log)",
    )


def log_format_option(command: argparse.ArgumentParser) -> None:
    """`--log-format`: JSON lines or console."""
    command.add_argument(
        "--log-format",
        choices=["json", "console"],
        help="default: console in a terminal, else JSON lines",
    )


def csv_options(command: argparse.ArgumentParser) -> None:
    """`--text-column` and `--id-column`: where a CSV keeps a mention's text and id."""
    command.add_argument("--text-column", default="text")
    command.add_argument("--id-column")


def stream_options(command: argparse.ArgumentParser, *, what: str) -> None:
    """`--stream` (CSV or JSONL, default the bundled sample), its CSV columns and `--limit`."""
    command.add_argument(
        "--stream", type=Path, help="CSV or JSONL of mentions (default: the bundled sample)"
    )
    csv_options(command)
    command.add_argument("--limit", type=int, default=0, help=f"{what} at most this many mentions")

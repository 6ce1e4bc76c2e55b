"""What `complaintflow dev` prints: one whole line at a time, each change the worker makes on
a platform, and a status line (open, awaiting approval, overdue) until it is stopped."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client
from temporalio.service import RPCError

from complaintflow.workflows import search

_PRINT = threading.Lock()


def say(text: str = "") -> None:
    """Print one whole line (the outbox thread prints too)."""
    with _PRINT:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


async def until_stopped(server: subprocess.Popen[bytes], client: Client, every: int) -> None:
    """Until SIGINT/SIGTERM or the dev server exits; a status line every `every` seconds
    when it changed."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    last = ""
    ticks = 0
    while not stop.is_set() and server.poll() is None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)
        ticks += 1
        if ticks % max(1, every) == 0 and not stop.is_set():
            line = await _status_line(client)
            if line != last:
                say(line)
                last = line
    if server.poll() is not None:
        say("the Temporal dev server stopped unexpectedly; see .complaintflow/temporal.log")


async def _status_line(client: Client) -> str:
    """Open cases, those awaiting approval, and those whose first answer is overdue."""
    running = "WorkflowType = 'CaseWorkflow' AND ExecutionStatus = 'Running'"
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        counts = [
            (await client.count_workflows(query)).count
            for query in (
                running,
                f"{running} AND {search.CASE_AWAITING_APPROVAL.name} = true",
                f"{running} AND {search.CASE_SLA_DUE.name} < '{now}' AND "
                f"{search.CASE_STATUS.name} = 'awaiting_approval'",
            )
        ]
    except (RuntimeError, RPCError) as exc:
        return f"  [status unavailable: {exc}]"
    return (
        f"  [{datetime.now().strftime('%H:%M:%S')}] open cases {counts[0]}, awaiting "
        f"approval {counts[1]}, first answer overdue {counts[2]}"
    )


def show_change(route: str, path: str, body: dict[str, Any]) -> None:
    """One line per change the worker made on a platform (the live view); never a token."""
    if route.endswith(".token"):
        rotated = " (its refresh token rotated)" if route.startswith("x.") else ""
        say(f"    ↻ {route:20} user access token refreshed{rotated}")
        return
    text = body.get("text") or body.get("message") or (body.get("ticket") or {}).get("subject")
    if isinstance(text, dict):
        text = text.get("text")
    shown = " ".join(str(text or json.dumps(body)).split())[:80]
    say(f"    → {route:20} {path:44} {shown}")

"""`complaintflow dev` as a process: start it on given ports, wait until it is ready, read its
live view up to a line, and stop it with Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from tests.support.paths import EXAMPLE_POLICY

READY = "Press Ctrl-C to stop everything."


def start(state: Path, port: int, ui_port: int, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "complaintflow",
            "dev",
            "--policy",
            str(EXAMPLE_POLICY),
            "--port",
            str(port),
            "--ui-port",
            str(ui_port),
            "--state-dir",
            str(state),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def wait_ready(process: subprocess.Popen[str]) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.strip() == READY:
            return lines
    raise AssertionError("dev never became ready:\n" + "\n".join(lines))


def read_until(process: subprocess.Popen[str], wanted: str, seconds: float = 30) -> list[str]:
    """The lines the process prints up to one containing `wanted`. After `seconds` it gets
    Ctrl-C, so a line that never comes fails the test instead of hanging it."""
    assert process.stdout is not None
    watchdog = threading.Timer(seconds, process.send_signal, [signal.SIGINT])
    watchdog.start()
    seen: list[str] = []
    try:
        while line := process.stdout.readline():
            seen.append(line.rstrip("\n"))
            if wanted in line:
                return seen
    finally:
        watchdog.cancel()
    raise AssertionError(f"never printed {wanted!r}:\n" + "\n".join(seen))


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=60)
    return rest


def cli(dev: WorkflowEnvironment, *args: str) -> subprocess.CompletedProcess[str]:
    address = dev.client.service_client.config.target_host
    return subprocess.run(
        [sys.executable, "-m", "complaintflow", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "TEMPORAL_ADDRESS": address, "TEMPORAL_NAMESPACE": "default"},
        timeout=60,
    )


async def until_ready(http: httpx.AsyncClient, url: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if (await http.get(f"{url}/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{url} never became ready"
        await asyncio.sleep(0.2)

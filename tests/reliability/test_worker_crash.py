"""Worker crashes: `kill -9` the worker process three times while 300 cases run.

Each time a new worker takes over. Every case completes, and the emulated platforms show
exactly one reply, one DM and one ticket per case: an activity cut off mid-call is retried,
and the retry finds what the first attempt already did.
"""

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from complaintflow.devkit.emulator import X_CLIENT_ID, create_app
from complaintflow.devkit.serve import serving
from complaintflow.devkit.stack import connect_emulated_x
from complaintflow.platforms.credentials import TokenStore
from complaintflow.workflows.messages import CaseState
from tests.support.helpers import until
from tests.support.reliability import assert_done_exactly_once, emulated_x, open_cases, progress

CASES = 300
KILL_AT = (0.2, 0.45, 0.7)  # kill when this share of the platform work is done


async def test_every_case_completes_exactly_once_across_worker_crashes(
    dev: WorkflowEnvironment, tmp_path: Path
) -> None:
    emulator = emulated_x()
    tokens = TokenStore(tmp_path / "tokens.sqlite3")
    connect_emulated_x(tokens, "tok")
    logs = (tmp_path / "worker.log").open("w")
    async with serving(create_app(emulator)) as url:
        environment = {
            **os.environ,
            "TEMPORAL_ADDRESS": dev.client.service_client.config.target_host,
            "TEMPORAL_NAMESPACE": "default",
            "COMPLAINTFLOW_TASK_QUEUE": "crash",
            "COMPLAINTFLOW_X_API_URL": f"{url}/x",
            # X writes need the brand's user-context token: a store all the worker
            # processes share, holding a grant the emulator honours (as after `connect x`).
            "COMPLAINTFLOW_X_CLIENT_ID": X_CLIENT_ID,
            "COMPLAINTFLOW_TOKEN_STORE": str(tokens.path),
            "COMPLAINTFLOW_ZENDESK_URL": f"{url}/zendesk",
            "COMPLAINTFLOW_ZENDESK_EMAIL": "care@acme.example",
            "COMPLAINTFLOW_ZENDESK_TOKEN": "tok",
            "COMPLAINTFLOW_ARCHIVE_DIR": str(tmp_path / "archive"),
        }

        def start_worker() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                [sys.executable, "-m", "complaintflow", "worker", "--log-format", "json"],
                env=environment,
                stdout=logs,
                stderr=logs,
            )

        worker = start_worker()
        handles = await open_cases(dev.client, emulator, CASES, prefix="88", task_queue="crash")
        killed_at = []
        started = time.monotonic()
        try:
            for share in KILL_AT:
                await until(lambda: progress(emulator) >= share, seconds=120)  # noqa: B023
                worker.send_signal(signal.SIGKILL)
                await asyncio.to_thread(worker.wait)
                killed_at.append(progress(emulator))
                worker = start_worker()
            finals: list[CaseState] = await asyncio.wait_for(
                asyncio.gather(*(h.result() for h in handles)),
                timeout=300,
            )
        finally:
            worker.send_signal(signal.SIGTERM)
            await asyncio.to_thread(worker.wait, 60)
            logs.close()
    elapsed = time.monotonic() - started
    shares = ", ".join(f"{share:.0%}" for share in killed_at)
    print(f"\nkilled at {shares} of the work; all {CASES} cases done in {elapsed:.0f} s")
    assert worker.returncode == 0
    assert killed_at[0] < killed_at[1] < killed_at[2] < 0.95, f"killed mid-run: {killed_at}"
    assert_done_exactly_once(emulator, finals)

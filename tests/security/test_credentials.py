"""Expiring tokens stay out of Temporal history and out of the logs.

Cases run end to end against the emulator with user tokens that live half a second, so the worker
refreshes (and X rotates refresh tokens) while they run; then every token the emulator ever
issued is looked for in each case's full event history and in every log event.
"""

import asyncio
from pathlib import Path

import httpx
import structlog
from temporalio.testing import WorkflowEnvironment

from complaintflow.devkit.emulator import create_app
from complaintflow.devkit.serve import serving
from complaintflow.devkit.stack import emulated_adapters
from complaintflow.worker import build_worker
from complaintflow.workflows.messages import CaseState
from tests.support.reliability import assert_done_exactly_once, emulated_x, open_cases


async def test_no_token_in_history_or_logs(
    dev: WorkflowEnvironment,
    tmp_path: Path,
) -> None:
    emulator = emulated_x()
    emulator.user_token_lifetime = 0.5
    with structlog.testing.capture_logs() as logs:
        async with (
            serving(create_app(emulator)) as url,
            httpx.AsyncClient(timeout=5.0) as http,
            build_worker(
                dev.client,
                task_queue="secrets",
                activities=emulated_adapters(url, "tok", tmp_path, client=http),
            ),
        ):
            handles = await open_cases(dev.client, emulator, 8, prefix="66", task_queue="secrets")
            finals: list[CaseState] = await asyncio.gather(*(h.result() for h in handles))
    assert_done_exactly_once(emulator, finals)
    assert emulator.refreshes >= 2, "tokens expired and were refreshed while cases ran"
    assert emulator.refused_refreshes == 0
    secrets = {*emulator.access_tokens, *emulator.refresh_tokens, *emulator.spent_refresh_tokens}
    for handle in handles:
        history = (await handle.fetch_history()).to_json()
        assert not [s for s in secrets if s in history], f"a token in {handle.id}'s history"
    logged = repr(logs)
    assert not [s for s in secrets if s in logged], "a token in the logs"

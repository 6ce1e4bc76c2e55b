"""Platform faults: 20 % 500s, 5 % 429 with Retry-After, 5 % commit-then-drop on every route.
Every case completes; each customer gets exactly one reply, one DM and one ticket."""

import asyncio
from collections import Counter
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from complaintflow.devkit.emulator import Fault, create_app
from complaintflow.devkit.serve import serving
from complaintflow.workflows.messages import CaseState
from tests.support.platform import emulated_worker
from tests.support.reliability import assert_done_exactly_once, emulated_x, open_cases

CASES = 20


async def test_every_case_completes_exactly_once_under_faults(
    dev: WorkflowEnvironment, tmp_path: Path
) -> None:
    emulator = emulated_x(seed=7)
    for route in (
        "x.post_tweet",
        "x.user_tweets",
        "x.send_dm",
        "x.list_dms",
        "zendesk.ticket",
        "zendesk.list_tickets",
    ):
        emulator.faults += [
            Fault(route=route, status=500, rate=0.2),
            Fault(route=route, status=429, retry_after=1, rate=0.0625),
            Fault(route=route, drop=True, rate=0.0667),
        ]
    async with (
        serving(create_app(emulator)) as url,
        httpx.AsyncClient(timeout=5.0) as http,
        emulated_worker(dev.client, "faults", url, tmp_path, http=http),
    ):
        handles = await open_cases(dev.client, emulator, CASES, prefix="77", task_queue="faults")
        finals: list[CaseState] = await asyncio.gather(*(h.result() for h in handles))
    assert_done_exactly_once(emulator, finals)
    hits: Counter[str] = Counter()
    for fault in emulator.faults:
        hits["drop" if fault.drop else str(fault.status)] += fault.hits
    assert all(hits[kind] for kind in ("500", "429", "drop")), f"each kind happened: {hits}"

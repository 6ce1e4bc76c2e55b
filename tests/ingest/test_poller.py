"""The X mentions poller: new mentions reach ingest once each; the cursor survives."""

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from complaintflow import load_policy
from complaintflow.activities.forward import IngestForwarder
from complaintflow.activities.platforms import Endpoints, Platforms
from complaintflow.devkit.emulator import EmulatorState, Fault, Post, create_app
from complaintflow.devkit.serve import serving
from complaintflow.ingest.app import Ingest, IngestSecrets
from complaintflow.ingest.app import create_app as ingest_app
from complaintflow.platforms.x.adapter import XSettings
from complaintflow.worker import build_worker
from complaintflow.workflows.poller import MentionPoller, PollerInput
from tests.support.paths import EXAMPLE_POLICY
from tests.support.platform import Platform

BRAND = "1500000000000000001"


async def test_polled_mentions_become_cases_once(
    env: WorkflowEnvironment, platform: Platform, tmp_path: Path
) -> None:
    emulator = EmulatorState(token="tok", brand_x_id=BRAND, brand_page_id="p")
    emulator.add_post(
        Post("9000000101", "x", "777", "@NorthwindCares my sofa arrived broken, I want a refund")
    )
    emulator.add_post(Post("9000000102", "x", "778", "@NorthwindCares nice van today lol"))
    emulator.add_post(Post("9000000103", "x", BRAND, "Our sale starts today"))
    ingest = Ingest(
        env.client,
        load_policy(EXAMPLE_POLICY),
        task_queue="poll",
        secrets=IngestSecrets(generic_secret="s"),
        decision_log=tmp_path / "decisions.jsonl",
    )
    async with serving(create_app(emulator)) as x_url, serving(ingest_app(ingest)) as in_url:
        platforms = Platforms(
            Endpoints({"x": XSettings(url=f"{x_url}/x", token="tok")}),
            client=httpx.AsyncClient(timeout=5.0),
        )
        forwarder = IngestForwarder(in_url, "s", client=httpx.AsyncClient(timeout=10.0))
        emulator.faults.append(Fault(route="x.mentions", status=503, times=1))
        async with build_worker(
            env.client,
            task_queue="poll",
            activities=[
                *platforms.poller_activities(),
                *forwarder.activities(),
                *platform.activities(),
            ],
        ):
            handle = await env.client.start_workflow(
                MentionPoller.run,
                PollerInput(BRAND, interval_seconds=60),
                id="poller-x-test",
                task_queue="poll",
            )
            for _ in range(100):
                if await handle.query(MentionPoller.cursor) == "9000000102":
                    break
                await env.sleep(timedelta(seconds=1))
            assert await handle.query(MentionPoller.cursor) == "9000000102"
            emulator.add_post(
                Post("9000000104", "x", "779", "@NorthwindCares charged twice, nobody answers")
            )
            for _ in range(100):
                if await handle.query(MentionPoller.cursor) == "9000000104":
                    break
                await env.sleep(timedelta(seconds=30))
            assert await handle.query(MentionPoller.cursor) == "9000000104"
            await handle.terminate("test over")
        await platforms.client.aclose()
        await forwarder.client.aclose()
    for case_id in (
        "case-x-9000000101@northwind-social-care",
        "case-x-9000000104@northwind-social-care",
    ):
        description = await env.client.get_workflow_handle(case_id).describe()
        assert description.workflow_type == "CaseWorkflow"
    with pytest.raises(RPCError):
        await env.client.get_workflow_handle("case-x-9000000102@northwind-social-care").describe()
    logged = (tmp_path / "decisions.jsonl").read_text().splitlines()
    assert len(logged) == 1 and "9000000102" in logged[0], "each mention handled once"
    assert emulator.calls.count("x.mentions") >= 3, "a 503 was retried, then polled again"

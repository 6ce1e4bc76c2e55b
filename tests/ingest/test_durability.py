"""What ingest accepted stays accepted: redeliveries open no second case, even after the case
closed, as it ends, or after ingest restarted; a store that cannot write is a 503 and the retry
is kept."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from temporalio.client import (
    Client,
    DescribeWorkflowInput,
    Interceptor,
    OutboundInterceptor,
    WorkflowExecutionStatus,
)
from temporalio.testing import WorkflowEnvironment

from complaintflow import load_policy
from complaintflow.devkit.serve import serving
from complaintflow.ingest.app import Ingest, create_app
from complaintflow.store import Entry, StoreUnavailable, open_store
from complaintflow.worker import build_worker
from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.messages import SupervisorAction
from tests.support.cases import case_handle, send_update
from tests.support.paths import EXAMPLE_POLICY
from tests.support.platform import Platform
from tests.support.postgres import fresh_database
from tests.support.webhooks import SECRETS, post_x, x_event

FILLER = Entry("x", "f", "other", None, 0.0, None, "2000-01-01T00:00:00+00:00", {"pad": "x" * 3000})
COMPLAINT = "@NorthwindCares charged twice and nobody answers. Unacceptable"


def ingest_on(env: WorkflowEnvironment, queue: str, url: str, log: Path | None = None) -> Ingest:
    return Ingest(
        env.client,
        load_policy(EXAMPLE_POLICY),
        task_queue=queue,
        secrets=SECRETS,
        decision_log=log,
        store=open_store(url),
    )


async def test_a_webhook_redelivered_after_its_case_closed_opens_no_second_case(
    env: WorkflowEnvironment, platform: Platform, queue: str, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    event = x_event("2101", COMPLAINT)
    async with build_worker(env.client, activities=platform.activities(), task_queue=queue):
        first = ingest_on(env, queue, url)
        async with serving(create_app(first)) as base, httpx.AsyncClient(base_url=base) as http:
            opened = (await post_x(http, event)).json()
            assert opened["cases"] == ["case-x-2101@northwind-social-care"]
        await first.store.close()
        handle = env.client.get_workflow_handle("case-x-2101@northwind-social-care")
        first_run = (await handle.describe()).run_id
        await send_update(handle, CaseWorkflow.close, SupervisorAction(by="dana"))
        await handle.result()
        alerts_before = len(platform.calls)

        again = ingest_on(env, queue, url)  # a restarted replica: nothing in memory
        async with serving(create_app(again)) as base, httpx.AsyncClient(base_url=base) as http:
            answer = await post_x(http, event)
        await again.store.close()
        await asyncio.sleep(0.5)  # a second case, had one started, would have run by now
    assert answer.status_code == 200
    assert answer.json()["decisions"][0] == {
        "id": "2101",
        "route": "respond",
        "score": opened["decisions"][0]["score"],
        "case": "case-x-2101@northwind-social-care",
        "redelivered": True,
    }
    latest = await env.client.get_workflow_handle("case-x-2101@northwind-social-care").describe()
    assert latest.run_id == first_run, "no second run of the thread's case"
    assert latest.status == WorkflowExecutionStatus.COMPLETED
    assert len(platform.calls) == alerts_before, "no second alert, no second reply"


class _CaseEndsAfterALook(Interceptor):
    """Once armed, closes a case right after the next look at it: a busy day's moment between
    ingest seeing the thread's case run and handing it the post."""

    def __init__(self, env: WorkflowEnvironment) -> None:
        self.env = env
        self.armed = False

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Ending(next, self)


class _Ending(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, outer: _CaseEndsAfterALook) -> None:
        super().__init__(next)
        self.outer = outer

    async def describe_workflow(self, input: DescribeWorkflowInput) -> Any:
        described = await super().describe_workflow(input)
        if self.outer.armed:
            self.outer.armed = False
            handle = self.outer.env.client.get_workflow_handle(input.id)
            await send_update(handle, CaseWorkflow.close, SupervisorAction(by="dana"))
            await handle.result()
        return described


async def test_a_post_redelivered_as_its_case_ends_is_not_answered_again(
    env: WorkflowEnvironment, platform: Platform, queue: str, tmp_path: Path
) -> None:
    """The first delivery started the case, then the store could not write: 503. The retry
    arrives as the case ends: ingest sees it run, and it closes before the post reaches it.
    Ingest once started the thread's case again then (signal-with-start), a second run that
    would answer the same post twice; found by the simulator on a loaded machine."""
    ending = _CaseEndsAfterALook(env)
    config = env.client.config()
    config["interceptors"] = [*config["interceptors"], ending]
    ingest = Ingest(
        Client(**config),
        load_policy(EXAMPLE_POLICY),
        task_queue=queue,
        secrets=SECRETS,
        store=open_store(f"sqlite:///{tmp_path / 'store.db'}"),
    )
    case_id = "case-x-2301@northwind-social-care"
    event = x_event("2301", COMPLAINT)
    async with (
        build_worker(env.client, activities=platform.activities(), task_queue=queue),
        serving(create_app(ingest)) as base,
        httpx.AsyncClient(base_url=base, timeout=30.0) as http,
    ):
        locker = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")  # another connection holds the store's lock
        first = await post_x(http, event)
        locker.execute("ROLLBACK")
        locker.close()
        assert first.status_code == 503, first.text
        handle = env.client.get_workflow_handle(case_id)
        first_run = (await handle.describe()).run_id  # started before the write failed
        ending.armed = True
        retry = await post_x(http, event)
        await asyncio.sleep(0.5)  # a second run, had one started, would have acted by now
    recorded = await ingest.store.case_for("x", "2301", policy="northwind-social-care")
    await ingest.store.close()
    assert not ending.armed, "the case ended between ingest's look and its delivery"
    assert retry.status_code == 200, retry.text
    assert retry.json()["cases"] == [case_id]
    latest = await handle.describe()
    assert latest.run_id == first_run, "no second run of the thread's case"
    assert latest.status == WorkflowExecutionStatus.COMPLETED
    assert "2301" in (await case_handle(env.client, case_id).result()).mentions
    assert recorded == case_id, "the retry is recorded as that case's"


async def test_a_full_store_answers_503_and_the_platforms_retry_is_kept(
    env: WorkflowEnvironment, queue: str, tmp_path: Path
) -> None:
    ingest = ingest_on(env, queue, f"sqlite:///{tmp_path / 'store.db'}")
    connection = ingest.store.backend._connection  # type: ignore[attr-defined]
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count = {pages + 2}")  # a nearly full disk
    filler = 0
    for pad in (3000, 300, 0):  # fill what is left, down to the smallest row
        with pytest.raises(StoreUnavailable):
            while True:
                filler += 1
                row = dataclasses.replace(FILLER, mention_id=f"f{filler}", record={"p": "x" * pad})
                await ingest.store.record(row)
    stored = await ingest.store.count()
    async with serving(create_app(ingest)) as base, httpx.AsyncClient(base_url=base) as http:
        full = await post_x(http, x_event("2201", "nice van today lol"))
        assert full.status_code == 503, full.text
        assert "retry" in full.json()["error"]
        assert await ingest.store.count() == stored, "nothing half-written"
        connection.execute("PRAGMA max_page_count = 1073741823")
        retry = await post_x(http, x_event("2201", "nice van today lol"))
    assert retry.status_code == 200 and retry.json()["logged"] == ["2201"]
    assert "2201" in [r.get("id") for r in await ingest.store.remarks()]
    await ingest.store.close()


async def test_readyz_is_not_ready_while_the_store_cannot_write_and_ready_again_after(
    env: WorkflowEnvironment, queue: str, tmp_path: Path
) -> None:
    """A full disk once left /readyz at 200 (the store still answered reads) while every
    webhook got a 503: a load balancer kept sending them to the replica that could not
    take them."""
    ingest = ingest_on(env, queue, f"sqlite:///{tmp_path / 'store.db'}")
    connection = ingest.store.backend._connection  # type: ignore[attr-defined]
    filler = 0
    async with serving(create_app(ingest)) as base, httpx.AsyncClient(base_url=base) as http:
        assert (await http.get("/readyz")).status_code == 200
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages + 2}")  # a nearly full disk
        for pad in (3000, 300, 0):  # fill what is left, down to the smallest row
            with pytest.raises(StoreUnavailable):
                while True:
                    filler += 1
                    row = dataclasses.replace(
                        FILLER, mention_id=f"f{filler}", record={"p": "x" * pad}
                    )
                    await ingest.store.record(row)
        assert (await post_x(http, x_event("2251", "nice van today lol"))).status_code == 503
        full = await http.get("/readyz")
        assert full.status_code == 503, full.text
        assert set(full.json()["problems"]) == {"store"}
        assert "full" in full.json()["problems"]["store"]
        connection.execute("PRAGMA max_page_count = 1073741823")
        assert (await http.get("/readyz")).status_code == 200, "ready again once it writes"
        assert (await post_x(http, x_event("2251", "nice van today lol"))).status_code == 200
    await ingest.store.close()


async def test_a_remark_whose_id_is_not_valid_unicode_does_not_sink_its_batch(
    env: WorkflowEnvironment, queue: str, tmp_path: Path
) -> None:
    ingest = ingest_on(env, queue, f"sqlite:///{tmp_path / 'store.db'}", tmp_path / "d.jsonl")
    ids = [f"23{n:02d}" for n in range(20)] + ["bad\ud800"]
    async with serving(create_app(ingest)) as base, httpx.AsyncClient(base_url=base) as http:
        answers = await asyncio.wait_for(
            asyncio.gather(*(post_x(http, x_event(i, "nice van today lol")) for i in ids)),
            timeout=30,
        )
    # The id that is not valid Unicode is refused with its reason; the writes beside it land.
    assert [a.status_code for a in answers] == [200] * (len(ids) - 1) + [400]
    assert "lone surrogate" in answers[-1].json()["error"]
    assert await ingest.store.count() == len(ids) - 1
    lines = ingest.decision_log.read_text().splitlines()
    assert len(lines) == len(ids) - 1 and all(json.loads(line) for line in lines), "whole lines"
    await ingest.store.close()


async def test_an_export_that_cannot_be_written_does_not_lose_the_remark(
    env: WorkflowEnvironment, queue: str, tmp_path: Path
) -> None:
    export = tmp_path / "d.jsonl"
    export.symlink_to("/dev/full")
    ingest = ingest_on(env, queue, f"sqlite:///{tmp_path / 'store.db'}", export)
    async with serving(create_app(ingest)) as base, httpx.AsyncClient(base_url=base) as http:
        answer = await post_x(http, x_event("2401", "nice van today lol"))
    assert answer.status_code == 200, "the store has it: the export is only a copy"
    assert [r["id"] for r in await ingest.store.remarks()] == ["2401"]
    await ingest.store.close()


async def test_readyz_is_ready_only_while_temporal_and_the_store_answer(
    env: WorkflowEnvironment, queue: str, postgres_cluster: str
) -> None:
    url = fresh_database(postgres_cluster)
    ingest = ingest_on(env, queue, url)
    async with serving(create_app(ingest)) as base, httpx.AsyncClient(base_url=base) as http:
        assert (await http.get("/readyz")).json() == {"ready": True}
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(postgres_cluster, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")  # the store is gone
        answer = await http.get("/readyz")
        assert answer.status_code == 503
        assert set(answer.json()["problems"]) == {"store"}, answer.json()
    await ingest.store.close()

"""Prometheus scrapes of ingest and of the worker show what happened, by route and platform."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.testing import WorkflowEnvironment

from complaintflow import load_policy
from complaintflow.devkit.serve import serving
from complaintflow.ingest.app import Ingest, create_app
from complaintflow.store import open_store
from complaintflow.worker import DATA_CONVERTER, build_worker
from tests.support.cases import approve, complaint, open_, pending, until
from tests.support.helpers import free_port
from tests.support.paths import EXAMPLE_POLICY
from tests.support.platform import Platform
from tests.support.webhooks import SECRETS, post_x, x_event


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(
    found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


async def test_ingest_counts_webhooks_decisions_triage_and_store_writes(
    env: WorkflowEnvironment, queue: str, tmp_path: Path
) -> None:
    ingest = Ingest(
        env.client,
        load_policy(EXAMPLE_POLICY),
        task_queue=queue,
        secrets=SECRETS,
        store=open_store(f"sqlite:///{tmp_path / 's.db'}"),
    )
    policy = ingest.policy.name
    async with serving(create_app(ingest)) as url, httpx.AsyncClient(base_url=url) as http:
        before = samples((await http.get("/metrics")).text)
        await post_x(
            http, x_event("5101", "@NorthwindCares charged twice and nobody answers. Unacceptable")
        )
        await post_x(http, x_event("5102", "nice van today lol"))
        await post_x(http, x_event("5103", "nice van today lol"), signature="sha256=forged")
        scraped = await http.get("/metrics")
    await ingest.store.close()
    assert scraped.headers["content-type"].startswith("text/plain")
    after = samples(scraped.text)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("complaintflow_webhooks_total", route="x", status="200") == 2
    assert delta("complaintflow_webhooks_total", route="x", status="401") == 1
    assert delta("complaintflow_decisions_total", route="respond", policy=policy) == 1
    assert delta("complaintflow_decisions_total", route="none", policy=policy) == 1
    assert delta("complaintflow_triage_seconds_count") == 2
    assert delta("complaintflow_store_write_seconds_count") == 2, "a remark and a case"


async def test_requests_from_anyone_do_not_grow_the_scrape(
    env: WorkflowEnvironment, queue: str, tmp_path: Path
) -> None:
    """3,000 unauthenticated POSTs to /webhooks/<random> once took /metrics from 5 KB to
    24 MB (the raw path was the `route` label): labels now come from fixed sets."""
    import asyncio
    import random

    ingest = Ingest(
        env.client,
        load_policy(EXAMPLE_POLICY),
        task_queue=queue,
        secrets=SECRETS,
        store=open_store(f"sqlite:///{tmp_path / 's.db'}"),
    )
    chance = random.Random(19)
    alphabet = "abcxyz0123456789-_.~%é/"

    def path() -> str:
        return "/webhooks/" + "".join(chance.choice(alphabet) for _ in range(chance.randint(1, 40)))

    methods = ["POST", "GET", "PUT", "DELETE", "PATCH"]
    async with serving(create_app(ingest)) as url, httpx.AsyncClient(base_url=url) as http:

        async def send_some(count: int) -> None:
            for _ in range(count):
                method = chance.choice(methods)
                target = chance.choice([path(), "/webhooks/x", "/webhooks/meta", "/webhooks/"])
                await http.request(method, target, content=b"{}")

        await send_some(200)  # every fixed label value that can appear has appeared
        before = len((await http.get("/metrics")).content)
        await asyncio.gather(*(send_some(500) for _ in range(6)))
        after = len((await http.get("/metrics")).content)
    await ingest.store.close()
    assert after - before < 1024, (before, after)


async def test_the_worker_exports_sdk_metrics_and_activity_outcomes(
    dev: WorkflowEnvironment,
) -> None:
    port = free_port()
    runtime = Runtime(
        telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"127.0.0.1:{port}"))
    )
    client = await Client.connect(
        dev.client.service_client.config.target_host, data_converter=DATA_CONVERTER, runtime=runtime
    )
    thread = f"m-{uuid.uuid4().hex[:8]}"
    mention = complaint(id=thread, thread_id=thread)
    queue = f"metrics-{thread}"
    async with build_worker(client, activities=Platform().activities(), task_queue=queue):
        handle = await open_(client, queue, mention)
        await until(handle, pending("reply_acknowledge"))
        await approve(handle, "reply_acknowledge")
        await until(handle, lambda s: bool(s.first_response_at))
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    found = samples(text)
    replies = [
        v
        for (name, labels), v in found.items()
        if name.startswith("complaintflow_activity_outcomes")
        and {("kind", "post_reply"), ("platform", "x"), ("outcome", "ok")} <= labels
    ]
    assert replies == [1.0], text[:3000]
    assert any(name.startswith("temporal_workflow_task") for name, _ in found), "the SDK's own"

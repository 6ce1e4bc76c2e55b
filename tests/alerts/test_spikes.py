"""A burst of complaints played through ingest raises one spike alert, through `notify`, from
a Temporal Schedule that checks the decision store; the usual rate raises none."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from complaintflow import load_policy
from complaintflow.activities.spikes import SpikeChecks
from complaintflow.client.alerts import NoSpikeAlert, schedule_spike_alerts, spike_settings
from complaintflow.devkit.serve import serving
from complaintflow.ingest.app import Ingest, create_app
from complaintflow.store import Entry, open_store
from complaintflow.worker import build_worker
from complaintflow.workflows import registry
from tests.support.paths import EXAMPLE_POLICY
from tests.support.platform import Platform
from tests.support.webhooks import SECRETS, post_x, x_event

COMPLAINT = "@NorthwindCares charged twice and nobody answers. Unacceptable"
SPIKE = """
alerts:
  spike:
    {window: 15m, baseline: 7d, factor: 3, minimum: 10, notify: {via: slack, target: "#care-leads"}}
"""


def policy_with_alerts(tmp_path: Path, name: str) -> Path:
    text = EXAMPLE_POLICY.read_text().replace("policy: northwind-social-care", f"policy: {name}")
    path = tmp_path / "policy.yaml"
    path.write_text(text + SPIKE)
    return path


def spike_alerts(platform: Platform) -> list[str]:
    return [r.text for r in platform.of(registry.NOTIFY) if r.text.startswith("Complaint spike")]


async def checks_done(dev: WorkflowEnvironment, queue: str, count: int) -> None:
    query = f'WorkflowType="SpikeWatch" AND TaskQueue="{queue}" AND ExecutionStatus="Completed"'
    for _ in range(300):
        if (await dev.client.count_workflows(query)).count >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{count} spike checks never completed")


async def test_a_burst_through_ingest_raises_one_alert(
    dev: WorkflowEnvironment, tmp_path: Path
) -> None:
    name = f"spiky-{uuid.uuid4().hex[:6]}"
    path = policy_with_alerts(tmp_path, name)
    settings = spike_settings(path)
    assert (settings.window_seconds, settings.minimum, settings.target) == (900, 10, "#care-leads")
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    now = datetime.now(UTC)
    for n in range(28):  # the usual rate: four complaints a day for the past week
        at = now - timedelta(hours=1 + 6 * n)
        await store.record(
            Entry(
                "x",
                f"old-{n}",
                name,
                "respond",
                0.8,
                f"case-x-old-{n}",
                at.isoformat(timespec="microseconds"),
                {},
            )
        )
    queue = f"spikes-{name}"
    platform = Platform()
    ingest = Ingest(dev.client, load_policy(path), task_queue=queue, secrets=SECRETS, store=store)
    async with (
        build_worker(
            dev.client,
            activities=[*platform.activities(), *SpikeChecks(store).activities()],
            task_queue=queue,
        ),
        serving(create_app(ingest)) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        schedule = dev.client.get_schedule_handle(
            await schedule_spike_alerts(dev.client, settings, queue)
        )
        try:
            for n in range(3):  # a few complaints: the usual rate, no alert
                assert (await post_x(http, x_event(f"61{n:02d}", COMPLAINT))).status_code == 200
            await schedule.trigger()
            await checks_done(dev, queue, 1)
            assert spike_alerts(platform) == []

            burst = await asyncio.gather(
                *(post_x(http, x_event(f"62{n:02d}", COMPLAINT)) for n in range(12))
            )
            assert {a.status_code for a in burst} == {200}
            await schedule.trigger()
            await checks_done(dev, queue, 2)
            (alert,) = spike_alerts(platform)
            assert alert.startswith(f"Complaint spike for {name}: 15 in the last 15 min"), alert

            await schedule.trigger()  # the spike goes on: no second alert
            await checks_done(dev, queue, 3)
            assert len(spike_alerts(platform)) == 1
        finally:
            await schedule.delete()
    await store.close()


def test_a_policy_without_spike_alerts_says_so(tmp_path: Path) -> None:
    with pytest.raises(NoSpikeAlert, match=r"no alerts\.spike"):
        spike_settings(EXAMPLE_POLICY)

"""The Grafana dashboard and the Prometheus alert rules under deploy/ query what the services
really export: every metric a PromQL expression names is on ingest's /metrics, on a real
worker's metrics endpoint (the Temporal SDK's own and complaintflow's activity outcomes), or in
the report's backlog text file; the few that come from Prometheus itself or its blackbox
exporter are listed here by name, with why.

Metric names only, never label values: the labels' values are not part of this contract.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.testing import WorkflowEnvironment

from complaintflow import load_policy
from complaintflow.devkit.serve import serving
from complaintflow.ingest.app import Ingest, create_app
from complaintflow.reporting import BACKLOG_METRICS
from complaintflow.store import open_store
from complaintflow.worker import DATA_CONVERTER, build_worker
from complaintflow.workflows import registry
from tests.support.cases import approve, complaint, open_, pending, until
from tests.support.helpers import free_port
from tests.support.paths import EXAMPLE_POLICY
from tests.support.platform import Platform
from tests.support.webhooks import SECRETS, post_x, x_event

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
DASHBOARD = DEPLOY / "grafana" / "complaintflow.json"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
# Not ours, and real: Prometheus's own per-target `up`, and the blackbox exporter's probe of
# GET /readyz (deploy/prometheus/README.md shows the scrape job).
ELSEWHERE = {"up", "probe_success", "probe_http_status_code"}

FUNCTIONS = {
    "sum", "rate", "irate", "increase", "histogram_quantile", "max", "min", "avg", "count",
    "topk", "bottomk", "clamp_min", "clamp_max", "abs", "absent", "time", "vector", "scalar",
    "label_replace", "max_over_time", "min_over_time", "avg_over_time", "sum_over_time",
    "delta", "deriv", "round", "sort_desc", "sort", "quantile",
}  # fmt: skip
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
            "unless", "bool", "offset", "inf", "nan"}  # fmt: skip


def metric_names(expression: str) -> set[str]:
    """The metric names a PromQL expression reads (functions, keywords and labels left out)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expression)  # strings: label values
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    text = re.sub(r"\$\{?\w+\}?", "", text)  # Grafana variables ($__rate_interval)
    names = set()
    for found in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*(?=\s*(\()?)", text):
        word, call = found.group(0), found.group(1)
        if call or word.lower() in KEYWORDS or word in FUNCTIONS:
            continue
        if re.fullmatch(r"\d+[smhdwy]|e\d*", word):
            continue
        names.add(word)
    return names


def dashboard_expressions() -> list[str]:
    board = json.loads(DASHBOARD.read_text())
    found: list[str] = []

    def walk(panels: list[dict[str, Any]]) -> None:
        for panel in panels:
            found.extend(t["expr"] for t in panel.get("targets", []) if t.get("expr"))
            walk(panel.get("panels", []))

    walk(board["panels"])
    return found


def alert_expressions() -> list[str]:
    rules = yaml.safe_load(ALERTS.read_text())
    return [r["expr"] for group in rules["groups"] for r in group["rules"]]


def exposed(text: str) -> set[str]:
    """Every sample name a Prometheus text exposition holds (with _total, _bucket, ...)."""
    return {s.name for family in text_string_to_metric_families(text) for s in family.samples}


def test_metric_names_are_read_from_promql() -> None:
    expression = (
        'sum by (route, status) (rate(complaintflow_webhooks_total{status=~"5.."}[5m]))'
        " / on(route) group_left sum(rate(x_total[$__rate_interval])) > 0.05"
        ' and histogram_quantile(0.9, sum by (le) (rate(a_bucket{k="rate"}[5m]))) > 1e3'
    )
    assert metric_names(expression) == {"complaintflow_webhooks_total", "x_total", "a_bucket"}


async def scrape_ingest(dev: WorkflowEnvironment, tmp_path: Path) -> str:
    """ingest's /metrics after a complaint, a remark and a forged delivery."""
    ingest = Ingest(
        dev.client,
        load_policy(EXAMPLE_POLICY),
        task_queue=f"dash-{uuid.uuid4().hex[:8]}",
        secrets=SECRETS,
        store=open_store(f"sqlite:///{tmp_path / 's.db'}"),
    )
    async with serving(create_app(ingest)) as url, httpx.AsyncClient(base_url=url) as http:
        await post_x(http, x_event("6101", "@NorthwindCares charged twice and nobody answers"))
        await post_x(http, x_event("6102", "nice van today lol"))
        await post_x(http, x_event("6103", "nice van today lol"), signature="sha256=forged")
        text = (await http.get("/metrics")).text
    await ingest.store.close()
    return text


async def scrape_worker(dev: WorkflowEnvironment) -> str:
    """A real worker's metrics endpoint after a case approved and a platform call refused."""
    port = free_port()
    runtime = Runtime(
        telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"127.0.0.1:{port}"))
    )
    client = await Client.connect(
        dev.client.service_client.config.target_host, data_converter=DATA_CONVERTER, runtime=runtime
    )
    thread = f"d-{uuid.uuid4().hex[:8]}"
    queue = f"dash-{thread}"
    platform = Platform(failing={registry.SEND_PRIVATE_MESSAGE})  # the handoff fails
    async with build_worker(client, activities=platform.activities(), task_queue=queue):
        handle = await open_(client, queue, complaint(id=thread, thread_id=thread))
        await until(handle, pending("reply_acknowledge"))
        await approve(handle, "reply_acknowledge")
        await until(handle, lambda s: any(e.what == "step failed" for e in s.audit))
        async with httpx.AsyncClient() as http:
            return (await http.get(f"http://127.0.0.1:{port}/metrics")).text


@pytest.fixture(scope="module")
def expressions() -> list[str]:
    return dashboard_expressions() + alert_expressions()


async def test_every_query_names_a_metric_the_services_export(
    dev: WorkflowEnvironment, tmp_path: Path, expressions: list[str]
) -> None:
    available = (
        exposed(await scrape_ingest(dev, tmp_path))
        | exposed(await scrape_worker(dev))
        | set(BACKLOG_METRICS)
        | ELSEWHERE
    )
    missing = {
        name: expression
        for expression in expressions
        for name in metric_names(expression)
        if name not in available
    }
    assert not missing, f"not exported by any service: {missing}"
    assert len(expressions) >= 15

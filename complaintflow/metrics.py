"""Prometheus metrics: ingest's own (webhooks, triage, decisions, store writes) on /metrics,
and the worker's activity outcomes, exported with the Temporal SDK's runtime metrics.

Labels carry routes, statuses, policies, platforms and step kinds, never customer data, and
each label of ingest's takes its values from a fixed set (the known webhook routes, the
statuses ingest answers, the loaded policies and their routes; anything else is "other"), so
no one outside can grow /metrics by sending requests.
"""

from __future__ import annotations

import functools
import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from complaintflow.platforms import registry
from complaintflow.workflows.together import RUN_STEPS

REGISTRY = CollectorRegistry()
FORWARDED = "complaintflow.forwarded"  # a request one app hands another: counted once
OTHER = "other"
# The statuses ingest answers webhooks with (its routes come from the platform folders).
STATUSES = frozenset({"200", "202", "400", "401", "403", "404", "405", "413", "422", "500", "503"})
# The policies made live in this process, and their routes (names a policy author chose).
_POLICIES: set[str] = set()
_POLICY_ROUTES: set[str] = set()
WEBHOOKS = Counter(
    "complaintflow_webhooks",
    "Webhooks answered, by route and HTTP status",
    ["route", "status"],
    registry=REGISTRY,
)
TRIAGE_SECONDS = Histogram(
    "complaintflow_triage_seconds",
    "Time to triage one mention (enrichment excluded)",
    registry=REGISTRY,
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
DECISIONS = Counter(
    "complaintflow_decisions",
    "Triage decisions, by route (none = a throwaway remark) and policy",
    ["route", "policy"],
    registry=REGISTRY,
)
STORE_WRITE_SECONDS = Histogram(
    "complaintflow_store_write_seconds",
    "Time for the decision store to take one decision (batched, committed)",
    registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0),
)
UNKNOWN_ACCOUNTS = Counter(
    "complaintflow_unknown_account_webhooks",
    "Webhooks to an account no policy owns, by route",
    ["route"],
    registry=REGISTRY,
)
SKIPPED_ENTRIES = Counter(
    "complaintflow_skipped_entries",
    "Entries of webhook deliveries skipped (unreadable or never acceptable), by route",
    ["route"],
    registry=REGISTRY,
)


@functools.cache
def webhook_routes() -> frozenset[str]:
    """The webhook routes ingest serves: each platform folder's, and the generic one."""
    return frozenset(s.path.removeprefix("/webhooks/") for s in registry.webhook_sources())


def route_label(path: str) -> str:
    """The `route` label of a request path: a known webhook route, else "other"."""
    route = path.removeprefix("/webhooks/") if path.startswith("/webhooks/") else ""
    return route if route in webhook_routes() else OTHER


def status_label(status: int) -> str:
    """The `status` label of an answer: a status ingest answers with, else "other"."""
    text = str(status)
    return text if text in STATUSES else OTHER


def register_policy(name: str, routes: list[str]) -> None:
    """Let a live policy's name and route names be label values (a reload adds a few)."""
    _POLICIES.add(name)
    _POLICY_ROUTES.update(routes)


def policy_label(name: str) -> str:
    return name if name in _POLICIES else OTHER


def route_name(route: str | None) -> str:
    """The `route` label of a decision: a live policy's route, "none" for a remark."""
    if route is None:
        return "none"
    return route if route in _POLICY_ROUTES else OTHER


def scrape() -> tuple[bytes, str]:
    """The exposition text and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


class CountWebhooks:
    """ASGI middleware counting every answer to a /webhooks/ request by route and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/webhooks/") or scope.get(FORWARDED):
            await self.app(scope, receive, send)
            return
        route = route_label(path)

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                WEBHOOKS.labels(route=route, status=status_label(message["status"])).inc()
            await send(message)

        await self.app(scope, receive, counted)


class ActivityOutcomes(Interceptor):
    """Counts each activity attempt's outcome by platform and step kind, on the worker's
    runtime metrics (exported with the SDK's own when the worker has a metrics port)."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Outcomes(next)


class _Outcomes(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        kind = activity.info().activity_type.removeprefix("complaintflow.")
        if kind == SHARED:  # the shared activity counts each of its calls itself
            return await self.next.execute_activity(input)
        request = input.args[0] if input.args else None
        platform = str(getattr(request, "platform", "") or "none")
        started = time.monotonic()
        try:
            result = await self.next.execute_activity(input)
        except BaseException:
            count_activity(platform, kind, "failed")
            raise
        count_activity(platform, kind, "ok", time.monotonic() - started)
        return result


SHARED = RUN_STEPS.removeprefix("complaintflow.")


def count_activity(platform: str, kind: str, outcome: str, seconds: float | None = None) -> None:
    """Count one activity attempt (or one call of the shared activity) and, when it succeeded,
    its duration; on the current activity's runtime metrics."""
    labels = {"platform": platform, "kind": kind}
    meter = activity.metric_meter()
    meter.create_counter("complaintflow_activity_outcomes", "Activity attempts by outcome").add(
        1, {**labels, "outcome": outcome}
    )
    if seconds is not None:
        meter.create_histogram_float(
            "complaintflow_activity_seconds", "Activity attempt duration", "s"
        ).record(seconds, labels)

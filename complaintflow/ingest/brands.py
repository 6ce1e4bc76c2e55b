"""Many brands in one ingest deployment: each webhook goes to the policy owning its account.

The body is read, its signature verified and it is parsed once, here; the receiving accounts
are read from it by the route's source (X `for_user_id`, a Meta entry's Page or Instagram
account id, the generic body's `account`: an X user id, a Page or Instagram id, or a Google
location), and each account's part goes, parsed, to the ingest of the policy owning it (a
Meta delivery naming several accounts has one part per account). An account no policy
owns is counted and answered 202 with no case: the platform must not retry it.

No two policies may claim one account or share one name (the name is part of every case id
and store key): checked at start-up, and again before a reloaded policy goes live, so the
router always finds one owner and never fails a webhook.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections import Counter
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import structlog
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message

from complaintflow import metrics
from complaintflow.errors import ComplaintflowError, IngestError
from complaintflow.ingest.app import create_app, metrics_text
from complaintflow.ingest.body import MAX_BODY, BadBody, parse_body
from complaintflow.ingest.service import Ingest, IngestSecrets
from complaintflow.ingest.webhooks import SOURCES, TOOL_ROUTES, Source, take
from complaintflow.platforms.payload import Addressed
from complaintflow.rules.model import CompiledPolicy
from complaintflow.signatures import verify

log = structlog.get_logger()


class AccountConflict(ComplaintflowError, ValueError):
    """Two policies claim the same account, or have the same name: a webhook to it (or a
    case id, a store key) would have two owners."""


@dataclasses.dataclass
class Brand:
    """One policy file and the ingest app that serves it."""

    path: Path
    ingest: Ingest
    app: ASGIApp


class Brands:
    """The policies of one deployment, found by the account that received a webhook."""

    def __init__(self, brands: list[Brand]) -> None:
        if not brands:
            raise ValueError("no policies to serve")
        self.brands = brands
        self.unknown: Counter[str] = Counter()  # webhooks to accounts no policy owns, by route
        # A reload's check and its going live are one step: two files reloaded at once
        # cannot each pass against the other's old version.
        self._admission = threading.Lock()
        if problems := self.conflicts():
            raise AccountConflict("; ".join(problems))
        for brand in brands:  # every reload of a brand passes the deployment's checks
            brand.ingest.admit = functools.partial(self.admit, brand)

    @property
    def secrets(self) -> IngestSecrets:
        return self.brands[0].ingest.secrets

    def conflicts(
        self, changed: Brand | None = None, policy: CompiledPolicy | None = None
    ) -> list[str]:
        """What makes the deployment ambiguous (accounts claimed twice, names used twice),
        with `policy` live for `changed` instead of its current one."""
        problems: list[str] = []
        owners: dict[tuple[str, str], Brand] = {}
        names: dict[str, Brand] = {}
        for brand in self.brands:
            live = policy if brand is changed and policy is not None else brand.ingest.policy
            if live.name in names:
                problems.append(
                    f"policy name {live.name!r} is in both {names[live.name].path} and {brand.path}"
                )
            names.setdefault(live.name, brand)
            for owned in live.brand.accounts:
                key = (owned.platform.value, owned.id)
                if key in owners:
                    problems.append(
                        f"{owned.platform.value} account {owned.id} is in both "
                        f"{owners[key].path} and {brand.path}"
                    )
                owners.setdefault(key, brand)
        return problems

    def admit(self, brand: Brand, policy: CompiledPolicy) -> list[str]:
        """Make `policy` live for `brand` unless it conflicts with another brand's live
        policy; return the conflicts (then the previous version stays live)."""
        with self._admission:
            if problems := self.conflicts(brand, policy):
                return problems
            brand.ingest.use_policy(policy)
            return []

    def owner(self, platforms: tuple[str, ...], account: str) -> Brand | None:
        """The brand whose live policy owns `account` on one of `platforms` (at most one:
        a policy claiming another's account never goes live)."""
        for platform in platforms:
            for brand in self.brands:
                if any(
                    owned.platform.value == platform and owned.id == account
                    for owned in brand.ingest.policy.brand.accounts
                ):
                    return brand
        return None


async def _forward(
    app: ASGIApp, scope: MutableMapping[str, Any], body: bytes = b""
) -> tuple[int, bytes]:
    """Run `app` on this request (a GET: a challenge, /readyz; or a tool's POST with its
    `body`, read once here); return status and body."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app({**scope, metrics.FORWARDED: True}, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


async def _read(request: Request) -> bytes | Response:
    """The request's body, or a 413 once it is larger than MAX_BODY."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return JSONResponse({"error": f"the body is larger than {MAX_BODY // 1024} KiB"}, 413)
    return body


def _parts(source: Source, body: bytes) -> list[Addressed] | Response:
    """The (platforms, account, payload) parts of `body`, or a 400 saying why it cannot be
    read."""
    # The same checks as one brand's app (encoding, depth, numbers): what can never be read
    # is a 400 with the reason, never a 5xx the platform would retry forever.
    try:
        return source.accounts(parse_body(body))
    except (BadBody, IngestError) as exc:
        return JSONResponse({"error": str(exc)}, 400)
    except Exception as exc:  # a value of an unexpected type where an account id belongs
        log.warning("ingest.unreadable", error=repr(exc)[:300])
        return JSONResponse({"error": f"the payload cannot be read: {exc!s:.200}"}, 400)


async def dispatch(brands: Brands, request: Request) -> Response:
    """Answer one POSTed webhook: each part goes to the brand owning its account. The router
    never answers 5xx itself (a 503 is a brand's: Temporal or the store cannot take it now)."""
    try:
        return await _dispatch(brands, request)
    except Exception as exc:  # a defect here must not make the platform retry forever
        log.error("ingest.not_routed", path=request.url.path, error=repr(exc)[:300])
        return JSONResponse({"error": f"the delivery could not be routed: {exc!s:.200}"}, 400)


async def _dispatch(brands: Brands, request: Request) -> Response:
    source = SOURCES[request.url.path]
    body = await _read(request)
    if isinstance(body, Response):
        return body
    secret = brands.secrets.get(source.secret).encode()  # the same for every brand
    given = request.headers.get(source.header, "")
    if not verify(secret, body, given, encoding=source.encoding):
        log.warning("ingest.bad_signature", path=request.url.path)
        return JSONResponse({"error": f"missing or wrong {source.header} signature"}, 401)
    parts = _parts(source, body)
    if isinstance(parts, Response):
        return parts
    return await _deliver(brands, request.url.path, source, parts)


async def _deliver(brands: Brands, path: str, source: Source, parts: list[Addressed]) -> Response:
    """Hand each part, as parsed, to the ingest of the brand owning its account (read,
    verified and parsed once, here); the first part a brand does not take is the answer
    (4xx or 503), so the platform retries the delivery."""
    merged: dict[str, Any] = {"accepted": 0, "cases": [], "logged": [], "decisions": []}
    unknown: list[str] = []
    for platforms, account, part in parts:
        brand = brands.owner(platforms, account)
        if brand is None:
            _count_unknown(brands, path, account)
            unknown.append(account)
            continue
        answer = await take(brand.ingest, source, path, part)
        if isinstance(answer, Response):  # the platform retries the whole delivery
            return answer
        _merge(merged, answer, brand)
    if unknown:
        merged["unknown_accounts"] = unknown
    status = 202 if unknown and not merged.get("policies") else 200
    return JSONResponse(merged, status)


def _count_unknown(brands: Brands, path: str, account: str) -> None:
    brands.unknown[path] += 1
    metrics.UNKNOWN_ACCOUNTS.labels(route=metrics.route_label(path)).inc()
    log.warning("ingest.unknown_account", path=path, account=account)


def _merge(merged: dict[str, Any], done: dict[str, Any], brand: Brand) -> None:
    """Add one brand's answer to the delivery's."""
    for key in ("cases", "logged", "decisions"):
        merged[key] += done.get(key, [])
    if done.get("skipped"):
        merged.setdefault("skipped", []).extend(done["skipped"])
    merged["accepted"] += done.get("accepted", 0)
    merged.setdefault("policies", []).append(brand.ingest.policy.name)


class _Endpoints:
    """The deployment app's request handlers over `brands`."""

    def __init__(self, brands: Brands) -> None:
        self.brands = brands
        self.first = brands.brands[0].app

    async def dispatch(self, request: Request) -> Response:
        return await dispatch(self.brands, request)

    async def passthrough(self, request: Request) -> Response:
        """The same for every policy: CRC and verification challenges, /readyz."""
        status, answer = await _forward(self.first, request.scope)
        return Response(answer, status, media_type="application/json")

    async def tool(self, request: Request) -> Response:
        """A tool's call naming a case or a remark, not an account (/webhooks/zendesk,
        /webhooks/contact, /remarks/open): each brand is asked in turn and the first that
        knows the case or remark answers; 404 only when none does. Signatures and bodies are
        checked by each brand's own handler (the secrets are the deployment's)."""
        body = await _read(request)
        if isinstance(body, Response):
            return body
        status, answer = 404, b'{"error": "no brand of this deployment knows it"}'
        for brand in self.brands.brands:
            status, answer = await _forward(brand.app, request.scope, body)
            if status != 404:
                break
        return Response(answer, status, media_type="application/json")

    async def health(self, _request: Request) -> Response:
        return JSONResponse(
            {
                "ok": True,
                "policies": [b.ingest.policy.label for b in self.brands.brands],
                "unknown_account_webhooks": dict(self.brands.unknown),
            }
        )


def create_brands_app(brands: Brands) -> Starlette:
    """One ingest app for every policy of the deployment."""
    endpoints = _Endpoints(brands)
    routes = [Route(path, endpoints.dispatch, methods=["POST"]) for path in SOURCES]
    routes += [  # the platforms' subscription challenges
        Route(path, endpoints.passthrough, methods=["GET"])
        for path, source in SOURCES.items()
        if source.challenge is not None
    ]
    routes += [Route(path, endpoints.tool, methods=["POST"]) for path in TOOL_ROUTES]
    routes += [
        Route("/readyz", endpoints.passthrough, methods=["GET"]),
        Route("/healthz", endpoints.health, methods=["GET"]),
        Route("/metrics", metrics_text, methods=["GET"]),
    ]
    return Starlette(routes=routes, middleware=[Middleware(metrics.CountWebhooks)])


def brands_of(ingests: list[tuple[Path, Ingest]]) -> Brands:
    """Brands for these policies' ingest services (each keeps its own live policy). The logs
    are shared, so if any policy redacts customer text, they all do."""
    redact = any(ingest.policy.redact_customer_text for _, ingest in ingests)
    for _, ingest in ingests:
        ingest.always_redact = redact
        ingest.use_policy(ingest.policy)
    return Brands([Brand(path, ingest, create_app(ingest)) for path, ingest in ingests])


def policy_files(directory: Path) -> list[Path]:
    """The policies in `directory`: every *.yaml / *.yml but the *.tests.yaml suites."""
    return sorted(
        p
        for p in directory.iterdir()
        if p.suffix in (".yaml", ".yml") and not p.name.endswith((".tests.yaml", ".tests.yml"))
    )

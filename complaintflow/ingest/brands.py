"""Many brands in one ingest deployment: each webhook goes to the policy owning its account.

The receiving account is read from the signed body (X `for_user_id`, a Meta entry's Page or
Instagram account id, the generic body's `account`: an X user id, a Page or Instagram id, or
a Google location); the body is then handed to that policy's ingest app unchanged (or, for a
Meta delivery naming several accounts, one re-signed part per account). An account no policy
owns is counted and answered 202 with no case: the platform must not retry it.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Callable, MutableMapping
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
from complaintflow.ingest.app import MAX_BODY, Ingest, IngestSecrets, create_app
from complaintflow.signatures import Encoding, sign, verify

log = structlog.get_logger()

# Which of a brand's accounts each webhook route can be addressed to.
PLATFORMS = {
    "x": ("x",),
    "page": ("facebook",),
    "instagram": ("instagram",),
    "generic": ("x", "facebook", "instagram", "google_business"),
}


class AccountConflict(ComplaintflowError, ValueError):
    """Two policies claim the same account: a webhook to it would have two owners."""


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
        self.owner("x", "")  # raises AccountConflict now rather than on the first webhook

    @property
    def secrets(self) -> IngestSecrets:
        return self.brands[0].ingest.secrets

    def owner(self, kind: str, account: str) -> Brand | None:
        """The brand whose live policy owns `account` on a platform of `kind`."""
        found: dict[tuple[str, str], Brand] = {}
        for brand in self.brands:
            for owned in brand.ingest.policy.brand.accounts:
                key = (owned.platform.value, owned.id)
                if key in found and found[key] is not brand:
                    raise AccountConflict(
                        f"{owned.platform.value} account {owned.id} is in both "
                        f"{found[key].path} and {brand.path}"
                    )
                found[key] = brand
        for platform in PLATFORMS[kind]:
            if (platform, account) in found:
                return found[(platform, account)]
        return None


def _x_parts(data: Any) -> list[tuple[str, str, Any]]:
    if not isinstance(data, dict):
        raise IngestError("the body must be a JSON object")
    return [("x", str(data.get("for_user_id", "")), data)]


def _meta_parts(data: Any) -> list[tuple[str, str, Any]]:
    if not isinstance(data, dict) or not isinstance(data.get("entry"), list):
        raise IngestError('the body must be an object with an "entry" list')
    kind = "instagram" if data.get("object") == "instagram" else "page"
    by_account: dict[str, list[Any]] = {}
    for entry in data["entry"]:
        account = str(entry.get("id", "")) if isinstance(entry, dict) else ""
        by_account.setdefault(account, []).append(entry)
    if len(by_account) == 1:
        return [(kind, next(iter(by_account)), data)]
    return [(kind, a, {**data, "entry": entries}) for a, entries in by_account.items()]


def _generic_parts(data: Any) -> list[tuple[str, str, Any]]:
    if not isinstance(data, dict):
        raise IngestError("the body must be a JSON object")
    rest = {k: v for k, v in data.items() if k != "account"}
    return [("generic", str(data.get("account", "")), rest)]


@dataclasses.dataclass(frozen=True)
class _Receiver:
    header: str
    encoding: Encoding
    secret: Callable[[IngestSecrets], str]
    parts: Callable[[Any], list[tuple[str, str, Any]]]


RECEIVERS = {
    "/webhooks/x": _Receiver(
        "x-twitter-webhooks-signature", "base64", lambda s: s.x_consumer_secret, _x_parts
    ),
    "/webhooks/meta": _Receiver(
        "x-hub-signature-256", "hex", lambda s: s.meta_app_secret, _meta_parts
    ),
    "/webhooks/generic": _Receiver(
        "x-complaintflow-signature", "hex", lambda s: s.generic_secret, _generic_parts
    ),
}


async def _forward(
    app: ASGIApp, scope: MutableMapping[str, Any], body: bytes, signature: tuple[str, str]
) -> tuple[int, bytes]:
    """Run `app` on this request with `body` (and its signature); return status and body."""
    name = signature[0].encode()
    headers = [(k, v) for k, v in scope["headers"] if k.lower() not in (name, b"content-length")]
    headers += [(name, signature[1].encode()), (b"content-length", str(len(body)).encode())]
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app({**scope, "headers": headers, metrics.FORWARDED: True}, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def create_brands_app(brands: Brands) -> Starlette:
    """One ingest app for every policy of the deployment."""

    async def dispatch(request: Request) -> Response:
        receiver = RECEIVERS[request.url.path]
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return JSONResponse(
                    {"error": f"the body is larger than {MAX_BODY // 1024} KiB"}, 413
                )
        secret = receiver.secret(brands.secrets).encode()
        given = request.headers.get(receiver.header, "")
        if not verify(secret, body, given, encoding=receiver.encoding):
            log.warning("ingest.bad_signature", path=request.url.path)
            return JSONResponse({"error": f"missing or wrong {receiver.header} signature"}, 401)
        try:
            parts = receiver.parts(json.loads(body))
        except json.JSONDecodeError as exc:
            return JSONResponse(
                {"error": f"the body is not JSON: {exc.msg} at position {exc.pos}"}, 400
            )
        except IngestError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        merged: dict[str, Any] = {"accepted": 0, "cases": [], "logged": [], "decisions": []}
        unknown: list[str] = []
        for kind, account, part in parts:
            brand = brands.owner(kind, account)
            if brand is None:
                brands.unknown[request.url.path] += 1
                metrics.UNKNOWN_ACCOUNTS.labels(route=request.url.path.rsplit("/", 1)[-1]).inc()
                unknown.append(account)
                log.warning("ingest.unknown_account", path=request.url.path, account=account)
                continue
            raw = body if len(parts) == 1 and part is not None and kind != "generic" else None
            if raw is None:
                raw = json.dumps(part).encode()
            signed = (receiver.header, sign(secret, raw, encoding=receiver.encoding))
            status, answer = await _forward(brand.app, request.scope, raw, signed)
            if status >= 300:  # the platform retries the whole delivery
                return Response(answer, status, media_type="application/json")
            done = json.loads(answer)
            for key in ("cases", "logged", "decisions"):
                merged[key] += done.get(key, [])
            merged["accepted"] += done.get("accepted", 0)
            merged.setdefault("policies", []).append(brand.ingest.policy.name)
        if unknown:
            merged["unknown_accounts"] = unknown
        status = 202 if unknown and not merged.get("policies") else 200
        return JSONResponse(merged, status)

    first = brands.brands[0].app

    async def passthrough(request: Request) -> Response:
        """The same for every policy: CRC and verification challenges, /readyz."""
        status, answer = await _forward(first, request.scope, b"", ("x-unused", ""))
        return Response(answer, status, media_type="application/json")

    async def health(_request: Request) -> Response:
        return JSONResponse(
            {
                "ok": True,
                "policies": [b.ingest.policy.label for b in brands.brands],
                "unknown_account_webhooks": dict(brands.unknown),
            }
        )

    async def metrics_text(_request: Request) -> Response:
        body, content_type = metrics.scrape()
        return Response(body, media_type=content_type)

    routes = [Route(path, dispatch, methods=["POST"]) for path in RECEIVERS]
    routes += [
        Route("/webhooks/x", passthrough, methods=["GET"]),
        Route("/webhooks/meta", passthrough, methods=["GET"]),
        Route("/readyz", passthrough, methods=["GET"]),
        Route("/healthz", health, methods=["GET"]),
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

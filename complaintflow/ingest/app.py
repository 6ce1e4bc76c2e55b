"""The ingest service: platform webhooks in; cases started or remarks logged; 2xx only after.

Signatures are checked in constant time on the raw body before it is parsed; bodies are
size-limited; payloads become Mentions, are enriched (sentiment) and triaged with the live
policy. A matched route is a signal-with-start of the thread's case; a throwaway remark is
appended (and fsync'd) to the decision log. The answer is 2xx only once Temporal accepted the
start/signal or the log line is on disk, so an accepted mention is never lost; a platform's
redelivery is harmless (the case ignores a mention it already has).
"""

import dataclasses
import hmac
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from temporalio.client import Client

from complaintflow.cases import open_case
from complaintflow.errors import IngestError
from complaintflow.ingest.decisions import DecisionLog
from complaintflow.ingest.enrich import CustomerLookup
from complaintflow.ingest.normalise import Mentions, from_generic, from_meta, from_x
from complaintflow.logs import redact_customer_text
from complaintflow.rules.features import sentiment
from complaintflow.rules.mention import Customer, Mention
from complaintflow.rules.model import CompiledPolicy
from complaintflow.rules.triage import Triage
from complaintflow.signatures import Encoding, sign, verify

MAX_BODY = 256 * 1024
log = structlog.get_logger()


@dataclasses.dataclass(frozen=True)
class IngestSecrets:
    """Webhook secrets, from the environment (never from policy files)."""

    x_consumer_secret: str = ""
    meta_app_secret: str = ""
    meta_verify_token: str = ""
    generic_secret: str = ""

    @classmethod
    def from_environment(cls) -> "IngestSecrets":
        env = os.environ
        return cls(
            x_consumer_secret=env.get("COMPLAINTFLOW_X_CONSUMER_SECRET", ""),
            meta_app_secret=env.get("COMPLAINTFLOW_META_APP_SECRET", ""),
            meta_verify_token=env.get("COMPLAINTFLOW_META_VERIFY_TOKEN", ""),
            generic_secret=env.get("COMPLAINTFLOW_WEBHOOK_SECRET", ""),
        )


class Ingest:
    """What the webhook handlers share: the live policy, Temporal, the decision log."""

    def __init__(
        self,
        client: Client,
        policy: CompiledPolicy,
        *,
        task_queue: str,
        secrets: IngestSecrets,
        decision_log: Path,
        customers: CustomerLookup | None = None,
    ) -> None:
        self.client = client
        self._make_live(policy)
        self.task_queue = task_queue
        self.secrets = secrets
        self.decisions = DecisionLog(decision_log)
        self.customers = customers
        self.skipped_entries = 0  # batch entries that could not be read (logged, reported)

    @property
    def decision_log(self) -> Path:
        return self.decisions.path

    @property
    def policy(self) -> CompiledPolicy:
        return self.triage.policy

    def use_policy(self, policy: CompiledPolicy) -> None:
        """Make `policy` live for new mentions (running cases keep theirs)."""
        self._make_live(policy)
        log.info("policy.live", policy=policy.label)

    def _make_live(self, policy: CompiledPolicy) -> None:
        self.triage = Triage(policy)
        redact_customer_text(policy.redact_customer_text)

    async def accept(self, mentions: list[Mention]) -> dict[str, Any]:
        """Triage each mention and act on it; return what was done."""
        opened: list[str] = []
        logged: list[str] = []
        decisions: list[dict[str, Any]] = []
        for raw in mentions:
            mention = (
                raw
                if raw.sentiment is not None
                else dataclasses.replace(raw, sentiment=sentiment(raw.text))
            )
            if self.customers is not None and mention.customer == Customer():
                mention = dataclasses.replace(mention, customer=await self.customers.find(mention))
            decision = self.triage.decide(mention)
            summary = {"id": mention.id, "route": decision.route, "score": decision.score}
            decisions.append(summary)
            if decision.playbook is None:
                record = {**decision.to_record(), "platform": mention.platform}
                if await self.decisions.append(record):
                    logged.append(mention.id)
                else:
                    summary["redelivered"] = True
            else:
                handle = await open_case(
                    self.client,
                    mention=mention,
                    decision=decision,
                    policy=self.policy,
                    task_queue=self.task_queue,
                )
                opened.append(handle.id)
                summary["case"] = handle.id
            log.info(
                "mention.triaged",
                platform=mention.platform,
                mention_id=mention.id,
                author_handle=mention.author.handle,
                text=mention.text[:280],
                score=decision.score,
                route=decision.route,
                case_id=summary.get("case"),
                redelivered=summary.get("redelivered", False),
            )
        return {"cases": opened, "logged": logged, "decisions": decisions}


def _problem(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=status)


async def _body(request: Request) -> bytes | Response:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        return _problem(413, f"the body is larger than {MAX_BODY // 1024} KiB")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return _problem(413, f"the body is larger than {MAX_BODY // 1024} KiB")
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(ingest: Ingest) -> Starlette:
    """The ingest ASGI app."""

    def receiver(
        secret: Callable[[], str],
        header: str,
        encoding: Encoding,
        parse: Callable[[Any], list[Mention]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            body = await _body(request)
            if isinstance(body, Response):
                return body
            given = request.headers.get(header, "")
            if not verify(secret().encode(), body, given, encoding=encoding):
                log.warning("ingest.bad_signature", path=request.url.path)
                return _problem(401, f"missing or wrong {header} signature")
            try:
                mentions = parse(json.loads(body))
            except json.JSONDecodeError as exc:
                return _problem(400, f"the body is not JSON: {exc.msg} at position {exc.pos}")
            except IngestError as exc:
                return _problem(400, str(exc))
            # One bad entry does not sink a batch: the good ones are taken, the bad ones
            # logged, counted and listed in the answer (a redelivery would not fix them).
            skipped = mentions.reported() if isinstance(mentions, Mentions) else []
            for problem in skipped:
                log.warning("ingest.entry_skipped", path=request.url.path, problem=problem)
            ingest.skipped_entries += len(skipped)
            try:
                done = await ingest.accept(mentions)
            except Exception as exc:  # Temporal unavailable: the platform must retry
                log.error("ingest.not_accepted", error=str(exc))
                return _problem(503, "could not hand the mention to Temporal; retry later")
            extra = {"skipped": skipped} if skipped else {}
            return JSONResponse({"accepted": len(mentions), **done, **extra})

        return handle

    secrets = ingest.secrets

    async def x_crc(request: Request) -> Response:
        token = request.query_params.get("crc_token", "")
        if not token or not secrets.x_consumer_secret:
            return _problem(400, "crc_token is required")
        answer = sign(secrets.x_consumer_secret.encode(), token.encode(), encoding="base64")
        return JSONResponse({"response_token": answer})

    async def meta_verify(request: Request) -> Response:
        params = request.query_params
        if (
            params.get("hub.mode") != "subscribe"
            or not secrets.meta_verify_token
            or not hmac.compare_digest(
                params.get("hub.verify_token", ""), secrets.meta_verify_token
            )
        ):
            return _problem(403, "wrong hub.verify_token")
        return PlainTextResponse(params.get("hub.challenge", ""))

    async def health(_request: Request) -> Response:
        return JSONResponse({"ok": True, "policy": ingest.policy.label})

    routes = [
        Route("/webhooks/x", x_crc, methods=["GET"]),
        Route(
            "/webhooks/x",
            receiver(
                lambda: secrets.x_consumer_secret,
                "x-twitter-webhooks-signature",
                "base64",
                lambda data: from_x(data, ingest.policy),
            ),
            methods=["POST"],
        ),
        Route("/webhooks/meta", meta_verify, methods=["GET"]),
        Route(
            "/webhooks/meta",
            receiver(
                lambda: secrets.meta_app_secret,
                "x-hub-signature-256",
                "hex",
                lambda data: from_meta(data, ingest.policy),
            ),
            methods=["POST"],
        ),
        Route(
            "/webhooks/generic",
            receiver(
                lambda: secrets.generic_secret, "x-complaintflow-signature", "hex", from_generic
            ),
            methods=["POST"],
        ),
        Route("/healthz", health, methods=["GET"]),
    ]

    async def not_found(request: Request, _exc: Exception) -> Response:
        return _problem(404, f"no such endpoint: {request.method} {request.url.path}")

    async def wrong_method(request: Request, _exc: Exception) -> Response:
        return _problem(405, f"{request.method} is not accepted on {request.url.path}")

    return Starlette(routes=routes, exception_handlers={404: not_found, 405: wrong_method})

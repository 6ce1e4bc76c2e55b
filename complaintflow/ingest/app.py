"""The ingest service: platform webhooks in; cases started or remarks logged; 2xx only after.

Signatures are checked in constant time on the raw body before it is parsed; bodies are
size-limited; payloads become Mentions, are enriched (sentiment) and triaged with the live
policy. A matched route is a signal-with-start of the thread's case; a throwaway remark is
appended (and fsync'd) to the decision log. The answer is 2xx only once Temporal accepted the
start/signal or the log line is on disk, so an accepted mention is never lost; a platform's
redelivery is harmless (the case ignores a mention it already has).
"""

import asyncio
import dataclasses
import hmac
import json
import math
import os
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from complaintflow import metrics
from complaintflow.cases import open_case
from complaintflow.errors import IngestError
from complaintflow.ingest.decisions import DecisionLog
from complaintflow.ingest.enrich import CustomerLookup
from complaintflow.ingest.normalise import Mentions, from_generic, from_meta, from_x
from complaintflow.logs import redact_customer_text
from complaintflow.rules.features import language_of, sentiment
from complaintflow.rules.language import load as load_language_model
from complaintflow.rules.mention import Customer, Mention
from complaintflow.rules.model import CompiledPolicy
from complaintflow.rules.triage import Triage
from complaintflow.signatures import Encoding, sign, verify
from complaintflow.store import DecisionStore, Entry, StoreRejected, StoreUnavailable, open_store

MAX_BODY = 256 * 1024
READY_TIMEOUT = 5.0  # seconds each dependency has to answer /readyz
MAX_DEPTH = 32  # platform payloads nest a handful of levels
MAX_DIGITS = 30  # a count or timestamp never has more
MAX_ID_CHARS = 200  # ids become workflow ids (at most 1,000 bytes), keys and URLs
MAX_COUNT = 2**53
EARLIEST, LATEST = 2000, 2100  # years a post's time may have
# Temporal answers that no retry can change: the platform gets a 4xx, not "retry later".
PERMANENT = {
    RPCStatusCode.INVALID_ARGUMENT,
    RPCStatusCode.FAILED_PRECONDITION,
    RPCStatusCode.OUT_OF_RANGE,
}
log = structlog.get_logger()


class BadBody(IngestError, ValueError):
    """A request body that can never be accepted; the message says why (a 400)."""


def _no_number(text: str) -> Any:
    raise BadBody(f"{text} is not a JSON number complaintflow accepts")


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise BadBody(f"a number of {len(text)} digits is too large")
    return int(text)


def _float(text: str) -> float:
    if len(text) > 2 * MAX_DIGITS:
        raise BadBody(f"a number of {len(text)} characters is too long")
    value = float(text)
    if not math.isfinite(value):
        raise BadBody(f"{text[:20]} is too large")
    return value


def parse_body(body: bytes) -> Any:
    """The JSON in `body`; BadBody naming what is wrong (encoding, syntax, depth, numbers)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadBody(f"the body is not UTF-8 (byte {exc.start})") from None
    depth = deepest = 0
    in_string = escaped = False
    for char in text:  # nesting is checked before parsing: the parser recurses
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                raise BadBody(f"the body nests more than {MAX_DEPTH} levels deep")
        elif char in "]}":
            depth -= 1
    try:
        data = json.loads(text, parse_int=_integer, parse_float=_float, parse_constant=_no_number)
    except json.JSONDecodeError as exc:
        raise BadBody(f"the body is not JSON: {exc.msg} at position {exc.pos}") from None
    except RecursionError:
        raise BadBody(f"the body nests more than {MAX_DEPTH} levels deep") from None
    _check_strings(data)
    return data


def _check_strings(data: Any) -> None:
    """Refuse text that cannot be stored or sent on (a lone surrogate from a \\ud800 escape)."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise BadBody("the body has text with a lone surrogate (\\uD800-\\uDFFF)") from None


def unfit(mention: Mention) -> str:
    """Why `mention` can never be taken (a 4xx), or "" when it can."""
    for field, value in (
        ("id", mention.id),
        ("thread_id", mention.thread_id),
        ("author.id", mention.author.id),
        ("author.handle", mention.author.handle),
    ):
        if len(value) > MAX_ID_CHARS:
            return f"{field} is {len(value)} characters; at most {MAX_ID_CHARS}"
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            return f"{field} holds control characters"
    if len(mention.author.name) > 1000:
        return f"author.name is {len(mention.author.name)} characters; at most 1000"
    counts = {
        "author.followers": mention.author.followers,
        "reshares": mention.reshares,
        "replies": mention.replies,
        "likes": mention.likes,
        "rating": mention.rating,
        "repeat_contacts": mention.repeat_contacts,
    }
    for field, count in counts.items():
        if isinstance(count, int) and not 0 <= count <= MAX_COUNT:
            return f"{field} is out of range (0 to 2**53)"
    if mention.sentiment is not None and not -1.0 <= mention.sentiment <= 1.0:
        return "sentiment must be from -1 to 1"
    if mention.created_at:
        try:
            when = datetime.fromisoformat(mention.created_at.replace("Z", "+00:00"))
        except ValueError:
            return f"created_at {mention.created_at[:40]!r} is not an ISO 8601 time"
        if not EARLIEST <= when.year < LATEST:
            return f"created_at {mention.created_at[:40]!r} is out of range"
    return ""


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
        decision_log: Path | None = None,
        customers: CustomerLookup | None = None,
        store: DecisionStore | None = None,
    ) -> None:
        self.client = client
        self.always_redact = False  # set when the logs are shared with a redacting policy
        self._make_live(policy)
        self.task_queue = task_queue
        self.secrets = secrets
        # The JSON-lines file is an export for people who want files; the store is the truth.
        self.decisions = (
            DecisionLog(decision_log)
            if decision_log is not None and str(decision_log) != os.devnull
            else None
        )
        self.store = store if store is not None else _store_beside(decision_log)
        self.customers = customers
        self.skipped_entries = 0  # batch entries that could not be read (logged, reported)

    @property
    def decision_log(self) -> Path:
        if self.decisions is None:
            raise AttributeError("this ingest writes no decision-log file")
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
        load_language_model()  # once per process, before the first webhook waits for it
        # Several policies in one process share the logs: one asking for redaction is enough.
        redact_customer_text(policy.redact_customer_text or self.always_redact)

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
            if mention.language is None:  # identified once; the case reads it from here
                language, confidence = language_of(mention)
                mention = dataclasses.replace(
                    mention, language=language, language_confidence=confidence
                )
            if self.customers is not None and mention.customer == Customer():
                mention = dataclasses.replace(mention, customer=await self.customers.find(mention))
            started = time.perf_counter()
            decision = self.triage.decide(mention)
            metrics.TRIAGE_SECONDS.observe(time.perf_counter() - started)
            metrics.DECISIONS.labels(route=decision.route or "none", policy=self.policy.name).inc()
            summary = {"id": mention.id, "route": decision.route, "score": decision.score}
            decisions.append(summary)
            record = {**decision.to_record(), "platform": mention.platform}
            if decision.playbook is None:
                if await self.store.record(self._entry(mention, record, None)):
                    logged.append(mention.id)
                    await self._export(record)
                else:
                    summary["redelivered"] = True
            elif known := await self.store.case_for(mention.platform, mention.id):
                # Already opened for this very post (the case may even be closed by now):
                # a redelivery must not start the thread's case a second time.
                opened.append(known)
                summary["case"] = known
                summary["redelivered"] = True
            else:
                handle = await open_case(
                    self.client,
                    mention=mention,
                    decision=decision,
                    policy=self.policy,
                    task_queue=self.task_queue,
                )
                await self.store.record(self._entry(mention, record, handle.id))
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

    def _entry(self, mention: Mention, record: dict[str, Any], case_id: str | None) -> Entry:
        return Entry(
            platform=mention.platform,
            mention_id=mention.id,
            policy=self.policy.name,
            route=record.get("route"),
            score=float(record.get("score") or 0.0),
            case_id=case_id,
            decided_at=datetime.now(UTC).isoformat(timespec="microseconds"),
            record=record,
        )

    async def _export(self, record: dict[str, Any]) -> None:
        """Append to the JSON-lines export; the store already has the row, so a failure here
        is reported, not answered as an error (the export can be rebuilt with `export`)."""
        if self.decisions is None:
            return
        try:
            await self.decisions.append(record)
        except Exception as exc:
            log.error("decision_log.not_written", path=str(self.decisions.path), error=str(exc))


def _store_beside(decision_log: Path | None) -> DecisionStore:
    """A SQLite store next to the decision-log file (in memory without one)."""
    if decision_log is None or str(decision_log) == os.devnull:
        return open_store("sqlite:///:memory:")
    return open_store(f"sqlite:///{decision_log.with_suffix('.db')}")


class _AsciiJSONResponse(JSONResponse):
    """JSON with non-ASCII escaped: an id that is not valid Unicode still gets its answer."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":")).encode("ascii")


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
                mentions = parse(parse_body(body))
            except (BadBody, IngestError) as exc:
                return _problem(400, str(exc))
            except Exception as exc:  # the normaliser could not read a value: never a 5xx
                log.warning("ingest.unreadable", path=request.url.path, error=repr(exc)[:300])
                return _problem(400, f"the payload has a value that cannot be read: {exc!s:.200}")
            # One bad entry does not sink a batch: the good ones are taken, the bad ones
            # logged, counted and listed in the answer (a redelivery would not fix them). The
            # whole batch is checked before anything in it is started.
            skipped = mentions.reported() if isinstance(mentions, Mentions) else []
            fit: list[Mention] = []
            for index, mention in enumerate(mentions):
                if reason := unfit(mention):
                    skipped.append(f"mention {index} ({mention.id[:40]!r}): {reason}")
                else:
                    fit.append(mention)
            if skipped and not fit:
                return _problem(400, "; ".join(skipped[:5]))
            for problem in skipped:
                log.warning("ingest.entry_skipped", path=request.url.path, problem=problem)
            ingest.skipped_entries += len(skipped)
            mentions = fit
            try:
                done = await ingest.accept(mentions)
            except StoreRejected as exc:  # retrying the same body cannot help
                log.error("ingest.not_stored", error=str(exc))
                return _problem(422, f"the decision could not be stored: {exc}")
            except StoreUnavailable as exc:  # the platform must retry
                log.error("ingest.not_stored", error=str(exc))
                return _problem(503, "could not store the decision; retry later")
            except RPCError as exc:
                if exc.status in PERMANENT:
                    log.error("ingest.refused_by_temporal", error=exc.message[:300])
                    return _problem(400, f"Temporal refused the mention: {exc.message:.300}")
                log.error("ingest.not_accepted", error=str(exc)[:300])
                return _problem(503, "could not hand the mention to Temporal; retry later")
            except Exception as exc:  # Temporal unavailable: the platform must retry
                log.error("ingest.not_accepted", error=str(exc)[:300])
                return _problem(503, "could not hand the mention to Temporal; retry later")
            extra = {"skipped": skipped} if skipped else {}
            return _AsciiJSONResponse({"accepted": len(mentions), **done, **extra})

        return handle

    secrets = ingest.secrets

    async def x_crc(request: Request) -> Response:
        token = request.query_params.get("crc_token", "")
        if not token or not secrets.x_consumer_secret:
            return _problem(400, "crc_token is required")
        answer = sign(
            secrets.x_consumer_secret.encode(),
            token.encode("utf-8", "surrogatepass"),
            encoding="base64",
        )
        return JSONResponse({"response_token": answer})

    async def meta_verify(request: Request) -> Response:
        params = request.query_params
        if (
            params.get("hub.mode") != "subscribe"
            or not secrets.meta_verify_token
            or not hmac.compare_digest(
                params.get("hub.verify_token", "").encode("utf-8", "surrogatepass"),
                secrets.meta_verify_token.encode("utf-8", "surrogatepass"),
            )
        ):
            return _problem(403, "wrong hub.verify_token")
        return PlainTextResponse(params.get("hub.challenge", ""))

    async def health(_request: Request) -> Response:
        """Liveness: the process answers (whether or not Temporal does)."""
        return JSONResponse({"ok": True, "policy": ingest.policy.label})

    async def ready(_request: Request) -> Response:
        """Ready only when both Temporal and the decision store answer (a load balancer
        sends webhooks only to a replica that can accept them)."""
        problems: dict[str, str] = {}
        try:
            await asyncio.wait_for(ingest.client.service_client.check_health(), READY_TIMEOUT)
        except Exception as exc:
            problems["temporal"] = str(exc) or type(exc).__name__
        try:
            await asyncio.wait_for(ingest.store.ping(), READY_TIMEOUT)
        except Exception as exc:
            problems["store"] = str(exc) or type(exc).__name__
        if problems:
            return JSONResponse({"ready": False, "problems": problems}, status_code=503)
        return JSONResponse({"ready": True})

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
        Route("/readyz", ready, methods=["GET"]),
    ]

    async def not_found(request: Request, _exc: Exception) -> Response:
        return _problem(404, f"no such endpoint: {request.method} {request.url.path}")

    async def wrong_method(request: Request, _exc: Exception) -> Response:
        return _problem(405, f"{request.method} is not accepted on {request.url.path}")

    async def metrics_text(_request: Request) -> Response:
        body, content_type = metrics.scrape()
        return Response(body, media_type=content_type)

    routes.append(Route("/metrics", metrics_text, methods=["GET"]))
    return Starlette(
        routes=routes,
        exception_handlers={404: not_found, 405: wrong_method},
        middleware=[Middleware(metrics.CountWebhooks)],
    )

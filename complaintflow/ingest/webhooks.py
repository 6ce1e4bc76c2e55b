"""Receiving one platform webhook: size limit, signature on the raw body, hostile-input checks,
then the mentions handed to the Ingest; the answer is 2xx only once they are safe.

The answer is 2xx only once Temporal accepted the start/signal or the decision is stored, so
an accepted mention is never lost; a platform's redelivery is harmless. Each failure is a
status with a reason: 4xx when sending the same body again cannot help, 503 when it can.
The routes and their parts (header, secret, normaliser) come from each platform's folder.
"""

import json
from typing import Any

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from temporalio.service import RPCError

from complaintflow import metrics
from complaintflow.errors import IngestError
from complaintflow.ingest.body import MAX_BODY, BadBody, parse_body, unfit
from complaintflow.ingest.service import PERMANENT, Ingest, IngestSecrets
from complaintflow.platforms import registry
from complaintflow.platforms.payload import Mentions
from complaintflow.platforms.payload import WebhookSource as Source
from complaintflow.rules.mention import Mention
from complaintflow.signatures import verify
from complaintflow.store import StoreRejected, StoreUnavailable

__all__ = ["PERMANENT", "SOURCES", "Source", "problem", "receive"]
log = structlog.get_logger()


# The webhook routes, each platform's from its folder (platforms/<name>/webhooks.py).
SOURCES: dict[str, Source] = {source.path: source for source in registry.webhook_sources()}
# The tools' calls that name a case or a remark rather than an account (a helpdesk, another
# system, `complaintflow open` from elsewhere): every ingest app, one brand's or many, has them.
TOOL_ROUTES = ("/remarks/open", "/webhooks/zendesk", "/webhooks/contact")


class AsciiJSONResponse(JSONResponse):
    """JSON with non-ASCII escaped: an id that is not valid Unicode still gets its answer."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":")).encode("ascii")


def problem(status: int, reason: str) -> JSONResponse:
    """An error answer: `{"error": reason}` with `status`."""
    return JSONResponse({"error": reason}, status_code=status)


async def read_body(request: Request) -> bytes | Response:
    """The request's body, or a 413 once it is (or says it is) larger than MAX_BODY."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        return problem(413, f"the body is larger than {MAX_BODY // 1024} KiB")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return problem(413, f"the body is larger than {MAX_BODY // 1024} KiB")
        chunks.append(chunk)
    return b"".join(chunks)


async def signed_body(ingest: Ingest, request: Request) -> bytes | Response:
    """The body of a call signed as /webhooks/generic is (for tools calling ingest directly),
    or the answer refusing it: 413 too large, 401 with a missing or wrong signature."""
    body = await read_body(request)
    if isinstance(body, Response):
        return body
    source = SOURCES["/webhooks/generic"]
    if not verify(
        ingest.secrets.get(source.secret).encode(),
        body,
        request.headers.get(source.header, ""),
        encoding=source.encoding,
    ):
        log.warning("ingest.bad_signature", path=request.url.path)
        return problem(401, f"missing or wrong {source.header} signature")
    return body


async def receive(
    ingest: Ingest, secrets: IngestSecrets, source: Source, request: Request
) -> Response:
    """Answer one webhook delivery from `source`."""
    body = await read_body(request)
    if isinstance(body, Response):
        return body
    given = request.headers.get(source.header, "")
    if not verify(secrets.get(source.secret).encode(), body, given, encoding=source.encoding):
        log.warning("ingest.bad_signature", path=request.url.path)
        return problem(401, f"missing or wrong {source.header} signature")
    try:
        data = parse_body(body)
    except BadBody as exc:
        return problem(400, str(exc))
    answer = await take(ingest, source, request.url.path, data)
    if isinstance(answer, Response):
        return answer
    return AsciiJSONResponse(answer)


async def take(ingest: Ingest, source: Source, path: str, data: Any) -> dict[str, Any] | Response:
    """What `ingest` did with the mentions in `data` (a body already read, verified and
    parsed), or the error answer: a 400 saying why they cannot be read or taken, a 422 or 503
    when they cannot be stored or started now. The multi-brand router calls this once per
    brand addressed, with that brand's part of the delivery."""
    mentions = _mentions(path, data, source, ingest)
    if isinstance(mentions, Response):
        return mentions
    # One bad entry does not sink a batch: the good ones are taken, the bad ones logged,
    # counted and listed in the answer (a redelivery would not fix them). The whole batch is
    # checked before anything in it is started.
    fit, skipped = _sift(mentions)
    if skipped and not fit and source.refuse_when_nothing_taken:
        return problem(400, "; ".join(skipped[:5]))
    done = await _accepted(ingest, fit)
    if isinstance(done, Response):
        return done
    skipped += done.pop("refused")
    _report_skipped(ingest, path, skipped)
    if not done["decisions"] and skipped and source.refuse_when_nothing_taken:
        return problem(400, "; ".join(skipped[:5]))
    extra = {"skipped": skipped} if skipped else {}
    return {"accepted": len(done["decisions"]), **done, **extra}


def _report_skipped(ingest: Ingest, path: str, skipped: list[str]) -> None:
    """Log and count each entry skipped (`ingest.entry_skipped`)."""
    for reason in skipped:
        log.warning("ingest.entry_skipped", path=path, problem=reason)
    ingest.skipped_entries += len(skipped)
    if skipped:
        metrics.SKIPPED_ENTRIES.labels(route=metrics.route_label(path)).inc(len(skipped))


def _mentions(path: str, data: Any, source: Source, ingest: Ingest) -> list[Mention] | Response:
    """The mentions in `data` for `ingest`'s live policy, or a 400 saying why they cannot be
    read."""
    try:
        return source.parse(data, ingest.policy)
    except IngestError as exc:
        return problem(400, str(exc))
    except Exception as exc:  # the normaliser could not read a value: never a 5xx
        log.warning("ingest.unreadable", path=path, error=repr(exc)[:300])
        return problem(400, f"the payload has a value that cannot be read: {exc!s:.200}")


def _sift(mentions: list[Mention]) -> tuple[list[Mention], list[str]]:
    """The mentions that can be taken, and why each other entry was skipped."""
    skipped = mentions.reported() if isinstance(mentions, Mentions) else []
    fit: list[Mention] = []
    for index, mention in enumerate(mentions):
        if reason := unfit(mention):
            skipped.append(f"mention {index} ({mention.id[:40]!r}): {reason}")
        else:
            fit.append(mention)
    return fit, skipped


async def _accepted(ingest: Ingest, mentions: list[Mention]) -> dict[str, Any] | Response:
    """What `ingest` did with `mentions`, or the error answer when it could not take them."""
    try:
        return await ingest.accept(mentions)
    except StoreRejected as exc:  # retrying the same body cannot help
        log.error("ingest.not_stored", error=str(exc))
        return problem(422, f"the decision could not be stored: {exc}")
    except StoreUnavailable as exc:  # the platform must retry
        log.error("ingest.not_stored", error=str(exc))
        return problem(503, "could not store the decision; retry later")
    except RPCError as exc:
        if exc.status in PERMANENT:
            log.error("ingest.refused_by_temporal", error=exc.message[:300])
            return problem(400, f"Temporal refused the mention: {exc.message:.300}")
        log.error("ingest.not_accepted", error=str(exc)[:300])
        return problem(503, "could not hand the mention to Temporal; retry later")
    except Exception as exc:  # Temporal unavailable: the platform must retry
        log.error("ingest.not_accepted", error=str(exc)[:300])
        return problem(503, "could not hand the mention to Temporal; retry later")

"""The ingest service: platform webhooks in; cases started or remarks logged; 2xx only after.

This module assembles the ASGI app: one route per webhook, the platforms' subscription
challenges, liveness (/healthz), readiness (/readyz) and /metrics. Signatures are checked in
constant time on the raw body before it is parsed; bodies are size-limited; payloads become
Mentions, are enriched (sentiment) and triaged with the live policy (`service`). The answer is
2xx only once Temporal accepted the start/signal or the decision is stored (`webhooks`), so an
accepted mention is never lost; a platform's redelivery is harmless.
"""

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from complaintflow import metrics
from complaintflow.ingest import webhooks
from complaintflow.ingest.body import MAX_BODY, BadBody, parse_body, unfit
from complaintflow.ingest.readiness import READY_TIMEOUT, readiness
from complaintflow.ingest.service import Ingest, IngestSecrets
from complaintflow.ingest.webhooks import PERMANENT, SOURCES, TOOL_ROUTES, Source, problem

__all__ = [
    "MAX_BODY",
    "PERMANENT",
    "READY_TIMEOUT",
    "BadBody",
    "Ingest",
    "IngestSecrets",
    "create_app",
    "parse_body",
    "unfit",
]


class _Endpoints:
    """The app's request handlers over one Ingest (its secrets as given at start-up)."""

    def __init__(self, ingest: Ingest) -> None:
        self.ingest = ingest
        self.secrets = ingest.secrets

    def receiver(self, source: Source) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            return await webhooks.receive(self.ingest, self.secrets, source, request)

        return handle

    def challenge(self, source: Source) -> Callable[[Request], Awaitable[Response]]:
        """The platform's subscription check on `source`'s route (a GET)."""
        answer = source.challenge
        assert answer is not None

        async def handle(request: Request) -> Response:
            return answer(self.secrets.get, request)

        return handle

    async def open_remark(self, request: Request) -> Response:
        """A tool opens a case for a logged remark (signed like /webhooks/generic)."""
        from complaintflow.ingest.opening import open_request

        return await open_request(self.ingest, request)

    async def zendesk(self, request: Request) -> Response:
        """A Zendesk ticket the customer created or answered: the case's email contact."""
        from complaintflow.ingest import contacts

        return await contacts.zendesk(self.ingest, request)

    async def contact(self, request: Request) -> Response:
        """Any other system tells a case the customer got in touch."""
        from complaintflow.ingest import contacts

        return await contacts.generic(self.ingest, request)

    async def health(self, _request: Request) -> Response:
        """Liveness: the process answers (whether or not Temporal does)."""
        return JSONResponse({"ok": True, "policy": self.ingest.policy.label})

    async def ready(self, _request: Request) -> Response:
        return await readiness(self.ingest)


async def metrics_text(_request: Request) -> Response:
    """The Prometheus scrape."""
    body, content_type = metrics.scrape()
    return Response(body, media_type=content_type)


async def _not_found(request: Request, _exc: Exception) -> Response:
    return problem(404, f"no such endpoint: {request.method} {request.url.path}")


async def _wrong_method(request: Request, _exc: Exception) -> Response:
    return problem(405, f"{request.method} is not accepted on {request.url.path}")


def create_app(ingest: Ingest) -> Starlette:
    """The ingest ASGI app."""
    endpoints = _Endpoints(ingest)
    receive = endpoints.receiver
    routes = []
    for path, source in SOURCES.items():  # each platform's webhook, then the generic one
        if source.challenge is not None:
            routes.append(Route(path, endpoints.challenge(source), methods=["GET"]))
        routes.append(Route(path, receive(source), methods=["POST"]))
    tools = {
        "/remarks/open": endpoints.open_remark,
        "/webhooks/zendesk": endpoints.zendesk,
        "/webhooks/contact": endpoints.contact,
    }
    assert set(tools) == set(TOOL_ROUTES)  # the multi-brand app routes the same ones
    routes += [Route(path, handler, methods=["POST"]) for path, handler in tools.items()]
    routes += [
        Route("/healthz", endpoints.health, methods=["GET"]),
        Route("/readyz", endpoints.ready, methods=["GET"]),
        Route("/metrics", metrics_text, methods=["GET"]),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={404: _not_found, 405: _wrong_method},
        middleware=[Middleware(metrics.CountWebhooks)],
    )

"""A local emulator of the platform APIs complaintflow calls, following their documentation.

An ASGI app with in-memory state (posts, threads, hidden flags, private messages, tickets,
notifications, OAuth grants) that behaves as each platform documents it, inconvenient parts
included: X refuses app-only tokens for writes, user tokens expire and refresh tokens rotate,
default field sets and pagination, X's x-rate-limit-* headers, Meta's throttling codes inside
400 bodies, Graph's code 100 for deleted objects, Instagram's field names, Slack webhooks that
ignore `channel`. Faults are injected per route (status codes, latency, "commit then drop the
connection"). Mounted under /x, /graph, /gbp, /google, /slack, /zendesk; /_emulator exposes
the state, takes faults and seeded posts, and has customers write to the brand: their DMs
and emails reach ingest as the platforms' and the helpdesk's signed webhooks (`deliveries`).
Each behaviour names its documentation page.

Each platform's routes live in its folder (platforms/<name>/emulator.py) and the shared
machinery in platforms/emulation.py; this module assembles them with the brand's own systems
(CRM, Slack, Zendesk, webhooks) into one app.
"""

import dataclasses
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from complaintflow.devkit.deliveries import EMAIL, MESSAGE_PLATFORMS, Outbox
from complaintflow.platforms import registry
from complaintflow.platforms.emulation import (
    GOOGLE_CLIENT_ID,
    X_CLIENT_ID,
    DropConnections,
    EmulatorState,
    Fault,
    Grant,
    Post,
    RouteRow,
    endpoint_for,
    error,
    read_json,
)

__all__ = [
    "AUTHS",
    "GOOGLE_CLIENT_ID",
    "PLATFORM_ROUTES",
    "X_CLIENT_ID",
    "EmulatorState",
    "Fault",
    "Grant",
    "Post",
    "create_app",
]


# -- the brand's CRM -------------------------------------------------------------------------
async def crm_lookup(request: Request, state: EmulatorState) -> Response:
    params = request.query_params
    key = f"{params.get('platform', '')}:{params.get('author_id') or params.get('handle', '')}"
    customer = state.customers.get(key)
    if customer is None:
        return JSONResponse({"known": False})
    return JSONResponse({"known": True, **customer})


# -- notifications and tickets --------------------------------------------------------------
async def slack_hook(request: Request, state: EmulatorState) -> Response:
    """An incoming webhook posts to the one channel it was created for; a `channel` in the
    body is ignored (https://docs.slack.dev/messaging/sending-messages-using-incoming-
    webhooks: "You cannot override the default channel ... chosen by the user")."""
    hook = request.path_params["hook"]
    body = await read_json(request)
    if not body.get("text") and not body.get("blocks"):
        return Response("no_text", status_code=400)
    channel = state.slack_hook_channels.get(hook, "#dev")
    state.notifications.append(
        {"hook": hook, "channel": channel, "text": body.get("text", ""), "via": "webhook"}
    )
    return Response("ok")


async def slack_post_message(request: Request, state: EmulatorState) -> Response:
    """chat.postMessage (https://docs.slack.dev/reference/methods/chat.postMessage): bot token
    as Bearer, JSON {channel, text}; errors are HTTP 200 with ok false."""
    if request.headers.get("authorization", "") != f"Bearer {state.token}":
        return JSONResponse({"ok": False, "error": "invalid_auth"})
    body = await read_json(request)
    channel = str(body.get("channel", ""))
    if not body.get("text") and not body.get("blocks"):
        return JSONResponse({"ok": False, "error": "no_text"})
    named = channel if channel.startswith("#") else f"#{channel}"
    if state.slack_channels is not None and named not in state.slack_channels:
        return JSONResponse({"ok": False, "error": "channel_not_found"})
    ts = f"{time.time():.6f}"
    state.notifications.append(
        {"channel": named, "text": body.get("text", ""), "via": "chat.postMessage", "ts": ts}
    )
    return JSONResponse(
        {"ok": True, "channel": named, "ts": ts, "message": {"text": body.get("text", "")}}
    )


async def slack_auth_test(request: Request, state: EmulatorState) -> Response:
    """auth.test (https://docs.slack.dev/reference/methods/auth.test): who the token is."""
    if request.headers.get("authorization", "") != f"Bearer {state.token}":
        return JSONResponse({"ok": False, "error": "invalid_auth"})
    return JSONResponse({"ok": True, "team": "Brand", "user": "complaintflow", "bot_id": "B1"})


async def generic_hook(request: Request, state: EmulatorState) -> Response:
    state.notifications.append({"hook": request.path_params["hook"], **(await read_json(request))})
    return Response("ok")


async def zendesk_ticket(request: Request, state: EmulatorState) -> Response:
    """POST /api/v2/tickets.json {ticket: {subject, comment, ...}}; 201 {ticket}
    (https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#create-ticket).
    A repeated Idempotency-Key replays the first answer for two hours; after that the key
    is forgotten and the same request opens another ticket
    (https://developer.zendesk.com/api-reference/ticketing/introduction/#idempotency)."""
    ticket = (await read_json(request)).get("ticket")
    if not isinstance(ticket, dict) or not ticket.get("subject"):
        return error(422, "RecordInvalid: subject is required")
    key = request.headers.get("idempotency-key", "")
    remembered = state.zendesk_keys.get(key) if key else None
    if remembered is not None and time.time() - remembered[0] < state.zendesk_key_lifetime:
        return JSONResponse({"ticket": remembered[1]}, status_code=201)
    record = {"id": len(state.tickets) + 1, **ticket}
    state.tickets.append(record)
    if key:
        state.zendesk_keys[key] = (time.time(), record)
    return JSONResponse({"ticket": record}, status_code=201)


async def zendesk_list_tickets(request: Request, state: EmulatorState) -> Response:
    """GET /api/v2/tickets.json, optionally ?external_id=: "Lists tickets by external id.
    External ids don't have to be unique for each ticket. As a result, the request may
    return multiple tickets with the same external id." (https://developer.zendesk.com/
    api-reference/ticketing/tickets/tickets/#list-tickets); {tickets, next_page,
    previous_page, count}, 100 a page at most, oldest first."""
    external = request.query_params.get("external_id")
    found = [t for t in state.tickets if external is None or t.get("external_id") == external]
    try:
        size = min(100, max(1, int(request.query_params.get("per_page", "100"))))
        page = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        return error(400, "per_page and page must be integers")
    shown = found[(page - 1) * size : page * size]
    more = page * size < len(found)
    return JSONResponse(
        {
            "tickets": shown,
            "next_page": str(request.url.include_query_params(page=page + 1)) if more else None,
            "previous_page": (
                None if page == 1 else str(request.url.include_query_params(page=page - 1))
            ),
            "count": len(found),
        }
    )


OPERATIONS_ROUTES: tuple[RouteRow, ...] = (  # CRM, Slack, generic webhooks, Zendesk
    ("/crm/customers", "crm.lookup", crm_lookup, "GET"),
    ("/slack/api/chat.postMessage", "slack.post_message", slack_post_message, "POST"),
    ("/slack/api/auth.test", "slack.auth_test", slack_auth_test, "POST"),
    ("/slack/{hook:path}", "slack.hook", slack_hook, "POST"),
    ("/hooks/{hook:path}", "webhook.hook", generic_hook, "POST"),
    ("/zendesk/api/v2/tickets.json", "zendesk.ticket", zendesk_ticket, "POST"),
    ("/zendesk/api/v2/tickets.json", "zendesk.list_tickets", zendesk_list_tickets, "GET"),
)
OPERATIONS_AUTHS: dict[str, str] = {
    "slack.hook": "none",
    "slack.post_message": "none",  # answers invalid_auth itself, as Slack does
    "slack.auth_test": "none",
    "webhook.hook": "none",
    "zendesk.ticket": "basic",
    "zendesk.list_tickets": "basic",
}

# Each platform's routes from its folder (platforms/<name>/emulator.py), then the brand's own.
_ROUTES, _AUTHS = registry.emulator_routes()
PLATFORM_ROUTES = (*_ROUTES, *OPERATIONS_ROUTES)
AUTHS = {**_AUTHS, **OPERATIONS_AUTHS}


def _platform_route(state: EmulatorState, row: RouteRow) -> Route:
    path, name, handler, method = row
    endpoint = endpoint_for(name, state, handler, AUTHS.get(name, "bearer"))
    return Route(path, endpoint, methods=[method], name=name)


class _Control:
    """The /_emulator routes over one state: show it, inject faults, seed posts, and (with an
    outbox) have a customer write to the brand privately or by email, now or later."""

    def __init__(self, state: EmulatorState, outbox: Outbox | None) -> None:
        self.state = state
        self.outbox = outbox

    async def show_state(self, _request: Request) -> Response:
        return JSONResponse(self.state.snapshot())

    async def add_fault(self, request: Request) -> Response:
        body = await read_json(request)
        try:
            self.state.faults.append(Fault(**body))
        except TypeError as exc:
            return error(400, f"bad fault: {exc}")
        return JSONResponse({"faults": len(self.state.faults)})

    async def add_post(self, request: Request) -> Response:
        body = await read_json(request)
        try:
            post = self.state.add_post(Post(**body))
        except TypeError as exc:
            return error(400, f"bad post: {exc}")
        return JSONResponse(dataclasses.asdict(post), status_code=201)

    async def customer_writes(self, request: Request) -> Response:
        """{"channel": "x" | "facebook" | "instagram" | "email", "sender": "ID or address",
        "text": "...", "after": SECONDS, "subject": "(email)", "name": "(X display name)"}:
        the platform (or the helpdesk) sends its webhook to ingest `after` seconds from now."""
        if self.outbox is None:
            return error(409, "this emulator delivers no webhooks: it was started without ingest")
        body = await read_json(request)
        channel, sender = str(body.get("channel", "")), body.get("sender")
        text, after = body.get("text", ""), body.get("after", 0)
        if channel not in (*MESSAGE_PLATFORMS, EMAIL):
            return error(400, f'"channel" is one of {", ".join((*MESSAGE_PLATFORMS, EMAIL))}')
        if not isinstance(sender, str) or not 0 < len(sender) <= 200:
            return error(400, '"sender" is the customer\'s id or address, up to 200 characters')
        if not isinstance(text, str) or len(text) > 10_000:
            return error(400, '"text" is what the customer writes, up to 10000 characters')
        if not isinstance(after, int | float) or isinstance(after, bool) or not 0 <= after < 1e6:
            return error(400, '"after" is a number of seconds from now (0 to 999999)')
        if channel == EMAIL:
            self.outbox.email(sender, str(body.get("subject", ""))[:500], text, after=after)
        else:
            self.outbox.message(channel, sender, text, after=after, name=str(body.get("name", "")))
        return JSONResponse({"scheduled": channel, "after": after}, status_code=202)

    async def show_deliveries(self, _request: Request) -> Response:
        delivered = self.outbox.delivered if self.outbox else []
        return JSONResponse({"delivered": [dataclasses.asdict(d) for d in delivered]})

    def routes(self) -> list[Route]:
        return [
            Route("/_emulator/state", self.show_state, methods=["GET"]),
            Route("/_emulator/faults", self.add_fault, methods=["POST"]),
            Route("/_emulator/posts", self.add_post, methods=["POST"]),
            Route("/_emulator/deliveries", self.customer_writes, methods=["POST"]),
            Route("/_emulator/deliveries", self.show_deliveries, methods=["GET"]),
        ]


def create_app(state: EmulatorState, *, outbox: Outbox | None = None) -> ASGIApp:
    """The emulator as an ASGI app over `state`; with `outbox`, /_emulator/deliveries has
    customers write to the brand (the platforms' webhooks go where the outbox says)."""
    routes = [_platform_route(state, row) for row in PLATFORM_ROUTES]
    routes += _Control(state, outbox).routes()
    return DropConnections(Starlette(routes=routes))

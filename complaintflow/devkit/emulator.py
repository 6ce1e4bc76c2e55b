"""A local emulator of the platform APIs complaintflow calls, with the same HTTP shapes.

An ASGI app with in-memory state (posts, threads, hidden flags, private messages, tickets,
notifications) that checks bearer tokens, enforces the platforms' rules (280 characters on X,
hiding only in conversations the brand started, one Facebook private reply per comment within
7 days) and injects faults per route (status codes, 429 with Retry-After, latency, and "commit
then drop the connection"). Mounted under /x, /graph, /slack, /zendesk; /_emulator exposes
the state and takes faults and seeded posts.
"""

import asyncio
import base64
import dataclasses
import itertools
import random
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

X_LIMIT = 280
PRIVATE_REPLY_WINDOW = 7 * 24 * 3600


@dataclasses.dataclass
class Post:
    """A post or comment on any platform."""

    id: str
    platform: str
    author_id: str
    text: str
    in_reply_to: str = ""
    conversation_id: str = ""
    created: float = dataclasses.field(default_factory=time.time)
    hidden: bool = False
    deleted: bool = False


@dataclasses.dataclass
class Fault:
    """Make calls to a route fail: `status` (with `retry_after`), `latency`, or `drop`
    (do the work, then drop the connection before answering). `times` 0 = every call;
    `rate` is the share of calls hit (1.0 = all)."""

    route: str
    status: int = 0
    retry_after: float = 0.0
    latency: float = 0.0
    drop: bool = False
    times: int = 0
    rate: float = 1.0
    hits: int = 0  # calls this fault has hit so far


class EmulatorState:
    """Everything the emulator knows; tests read it through /_emulator/state or directly."""

    def __init__(self, *, token: str, brand_x_id: str, brand_page_id: str, seed: int = 0) -> None:
        self.token = token
        self.brand_x_id = brand_x_id
        self.brand_page_id = brand_page_id
        self.posts: dict[str, Post] = {}
        self.messages: list[dict[str, Any]] = []
        self.private_replies: dict[str, float] = {}  # comment id -> when
        self.tickets: list[dict[str, Any]] = []
        self.notifications: list[dict[str, Any]] = []
        self.customers: dict[str, dict[str, str]] = {}  # "platform:author id" -> {tier, id}
        self.faults: list[Fault] = []
        self.calls: list[str] = []
        # Told of every change a call made: (route name, path, JSON body).
        self.listener: Callable[[str, str, dict[str, Any]], None] | None = None
        self._ids = itertools.count(1)
        self._random = random.Random(seed)

    def new_id(self, prefix: str = "") -> str:
        return f"{prefix}{9_000_000_000 + next(self._ids)}"

    def add_post(self, post: Post) -> Post:
        post.conversation_id = post.conversation_id or (
            self.posts[post.in_reply_to].conversation_id
            if post.in_reply_to in self.posts
            else post.id
        )
        self.posts[post.id] = post
        return post

    def fault_for(self, route: str) -> Fault | None:
        for fault in self.faults:
            if fault.route in (route, "*") and self._random.random() < fault.rate:
                fault.hits += 1
                if fault.times:
                    fault.times -= 1
                    if fault.times == 0:
                        self.faults.remove(fault)
                return fault
        return None

    def snapshot(self) -> dict[str, Any]:
        return {
            "posts": [dataclasses.asdict(p) for p in self.posts.values()],
            "messages": self.messages,
            "tickets": self.tickets,
            "notifications": self.notifications,
            "calls": self.calls,
        }


_DROP = "x-emulator-drop"


class _Dropped(Exception):
    """Raised after the answer's headers went out, so the server closes the connection."""


def error(status: int, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"message": detail, "code": status}, **extra}, status_code=status)


Handler = Callable[[Request, EmulatorState], Awaitable[Response]]


def _authorised(request: Request, state: EmulatorState, auth: str) -> bool:
    header = request.headers.get("authorization", "")
    if auth == "bearer":
        return header == f"Bearer {state.token}"
    if auth == "basic":  # Zendesk API tokens: base64("email/token:TOKEN")
        try:
            decoded = base64.b64decode(header.removeprefix("Basic ")).decode()
        except ValueError:
            return False
        return header.startswith("Basic ") and decoded.endswith(f"/token:{state.token}")
    return True  # incoming webhooks: the URL itself is the secret


def _endpoint(
    name: str, state: EmulatorState, handler: Handler, auth: str
) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        state.calls.append(name)
        if not _authorised(request, state, auth):
            return error(401, "Unauthorized: invalid or missing credentials")
        fault = state.fault_for(name)
        if fault and fault.latency:
            await asyncio.sleep(fault.latency)
        if fault and fault.status:
            headers = {"Retry-After": str(int(fault.retry_after))} if fault.retry_after else {}
            return JSONResponse(
                {"error": {"message": f"injected {fault.status}"}},
                status_code=fault.status,
                headers=headers,
            )
        response = await handler(request, state)
        if state.listener and request.method != "GET" and response.status_code < 400:
            state.listener(name, request.url.path, await _json(request))
        if fault and fault.drop and response.status_code < 400:
            response.headers[_DROP] = "1"  # committed; _DropConnections cuts the answer
        return response

    return run


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


# -- X API v2 --------------------------------------------------------------------------------
async def x_post_tweet(request: Request, state: EmulatorState) -> Response:
    body = await _json(request)
    text = str(body.get("text", ""))
    if not text or len(text) > X_LIMIT:
        return error(403, f"Tweet text must be 1 to {X_LIMIT} characters, got {len(text)}")
    parent = str((body.get("reply") or {}).get("in_reply_to_tweet_id", ""))
    if parent and parent not in state.posts:
        return error(400, f"in_reply_to_tweet_id {parent} does not exist")
    post = state.add_post(Post(state.new_id(), "x", state.brand_x_id, text, in_reply_to=parent))
    return JSONResponse({"data": {"id": post.id, "text": post.text}}, status_code=201)


async def x_hide_reply(request: Request, state: EmulatorState) -> Response:
    post = state.posts.get(request.path_params["id"])
    if post is None:
        return error(404, "Tweet not found")
    root = state.posts.get(post.conversation_id)
    if root is None or root.author_id != state.brand_x_id:
        return error(403, "You can only hide replies in conversations you started")
    post.hidden = bool((await _json(request)).get("hidden", True))
    return JSONResponse({"data": {"hidden": post.hidden}})


async def x_send_dm(request: Request, state: EmulatorState) -> Response:
    text = str((await _json(request)).get("text", ""))
    if not text:
        return error(400, "text is required")
    event = state.new_id("dm")
    state.messages.append(
        {"platform": "x", "to": request.path_params["participant_id"], "text": text, "id": event}
    )
    return JSONResponse(
        {
            "data": {
                "dm_conversation_id": f"{state.brand_x_id}-{request.path_params['participant_id']}",
                "dm_event_id": event,
            }
        },
        status_code=201,
    )


async def x_list_dms(request: Request, state: EmulatorState) -> Response:
    participant = request.path_params["participant_id"]
    found = [m for m in state.messages if m["platform"] == "x" and m["to"] == participant]
    return JSONResponse({"data": [{"id": m["id"], "text": m["text"]} for m in found]})


async def x_mentions(request: Request, state: EmulatorState) -> Response:
    """GET /2/users/:id/mentions: customers' posts on X, newest first, after since_id."""
    since = request.query_params.get("since_id", "")
    found = [
        p
        for p in state.posts.values()
        if p.platform == "x"
        and not p.deleted
        and p.author_id != request.path_params["id"]
        and (not since or (len(p.id), p.id) > (len(since), since))
    ]
    found.sort(key=lambda p: (len(p.id), p.id), reverse=True)
    data = [
        {
            "id": p.id,
            "text": p.text,
            "author_id": p.author_id,
            "conversation_id": p.conversation_id,
            "in_reply_to_user_id": "",
            "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 0},
        }
        for p in found[:100]
    ]
    meta: dict[str, Any] = {"result_count": len(data)}
    if data:
        meta["newest_id"] = data[0]["id"]
    return JSONResponse({"data": data, "meta": meta})


async def x_search(request: Request, state: EmulatorState) -> Response:
    query = request.query_params.get("query", "")
    terms = dict(part.split(":", 1) for part in query.split() if ":" in part)
    found = [
        p
        for p in state.posts.values()
        if p.platform == "x"
        and not p.deleted
        and (not terms.get("conversation_id") or p.conversation_id == terms["conversation_id"])
        and (not terms.get("from") or p.author_id == terms["from"])
    ]
    return JSONResponse(
        {
            "data": [
                {"id": p.id, "text": p.text, "in_reply_to_tweet_id": p.in_reply_to} for p in found
            ],
            "meta": {"result_count": len(found)},
        }
    )


# -- Facebook Graph (Pages) ------------------------------------------------------------------
async def fb_comment(request: Request, state: EmulatorState) -> Response:
    parent = request.path_params["object_id"]
    if parent not in state.posts:
        return error(404, f"Unsupported post request. Object with ID '{parent}' does not exist")
    message = str((await _json(request)).get("message", ""))
    if not message:
        return error(400, "(#100) The parameter message is required")
    post = state.add_post(
        Post(
            f"{parent}_{state.new_id()}",
            "facebook",
            state.brand_page_id,
            message,
            in_reply_to=parent,
        )
    )
    return JSONResponse({"id": post.id})


async def fb_edit_object(request: Request, state: EmulatorState) -> Response:
    post = state.posts.get(request.path_params["object_id"])
    if post is None:
        return error(404, "Object does not exist")
    body = await _json(request)
    if "is_hidden" in body:
        post.hidden = bool(body["is_hidden"])
    elif "hide" in body:  # Instagram's spelling
        post.hidden = bool(body["hide"])
    else:
        return error(400, "(#100) Nothing to change")
    return JSONResponse({"success": True})


async def fb_delete(request: Request, state: EmulatorState) -> Response:
    post = state.posts.get(request.path_params["object_id"])
    if post is None or post.deleted:
        return error(404, "Object does not exist")
    post.deleted = True
    return JSONResponse({"success": True})


async def fb_list_comments(request: Request, state: EmulatorState) -> Response:
    parent = request.path_params["object_id"]
    found = [p for p in state.posts.values() if p.in_reply_to == parent and not p.deleted]
    return JSONResponse(
        {"data": [{"id": p.id, "message": p.text, "from": {"id": p.author_id}} for p in found]}
    )


async def fb_private_reply(request: Request, state: EmulatorState) -> Response:
    if request.path_params["object_id"] != state.brand_page_id:
        return error(403, "(#200) Messages can only be sent from the page")
    body = await _json(request)
    comment = str((body.get("recipient") or {}).get("comment_id", ""))
    text = str((body.get("message") or {}).get("text", ""))
    post = state.posts.get(comment)
    if post is None:
        return error(400, "(#100) recipient.comment_id does not exist")
    if comment in state.private_replies:
        return error(400, "(#10900) Activity already replied to: one private reply per comment")
    if time.time() - post.created > PRIVATE_REPLY_WINDOW:
        return error(400, "(#10900) The comment is older than 7 days")
    state.private_replies[comment] = time.time()
    message = state.new_id("m_")
    state.messages.append(
        {"platform": "facebook", "comment_id": comment, "text": text, "id": message}
    )
    return JSONResponse({"recipient_id": post.author_id, "message_id": message})


# -- Google Business Profile reviews ---------------------------------------------------------
async def gbp_reply(request: Request, state: EmulatorState) -> Response:
    review = request.path_params["name"]
    if review not in state.posts:
        return error(404, f"Requested entity was not found: {review}")
    comment = str((await _json(request)).get("comment", ""))
    if not comment or len(comment) > 4096:
        return error(400, "comment must be 1 to 4096 characters")
    reply_id = f"{review}/reply"
    existing = state.posts.get(reply_id)
    if existing is not None:  # PUT replaces the one reply a review can have
        existing.text = comment
    else:
        state.add_post(
            Post(reply_id, "google_business", state.brand_page_id, comment, in_reply_to=review)
        )
    return JSONResponse({"comment": comment, "updateTime": "2026-01-01T00:00:00Z"})


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
    state.notifications.append({"hook": request.path_params["hook"], **(await _json(request))})
    return Response("ok")


async def zendesk_ticket(request: Request, state: EmulatorState) -> Response:
    ticket = (await _json(request)).get("ticket")
    if not isinstance(ticket, dict) or not ticket.get("subject"):
        return error(422, "RecordInvalid: subject is required")
    key = request.headers.get("idempotency-key", "")
    for existing in state.tickets:  # Zendesk replays the first answer for a repeated key
        if key and existing.get("_key") == key:
            return JSONResponse({"ticket": existing}, status_code=201)
    record = {"id": len(state.tickets) + 1, **ticket, "_key": key}
    state.tickets.append(record)
    return JSONResponse({"ticket": record}, status_code=201)


def create_app(state: EmulatorState) -> ASGIApp:
    """The emulator as an ASGI app over `state`."""

    def route(path: str, name: str, handler: Handler, method: str) -> Route:
        auth = {"slack": "none", "webhook": "none", "zendesk": "basic"}.get(
            name.split(".", maxsplit=1)[0], "bearer"
        )
        return Route(path, _endpoint(name, state, handler, auth), methods=[method], name=name)

    async def show_state(_request: Request) -> Response:
        return JSONResponse(state.snapshot())

    async def add_fault(request: Request) -> Response:
        body = await _json(request)
        try:
            state.faults.append(Fault(**body))
        except TypeError as exc:
            return error(400, f"bad fault: {exc}")
        return JSONResponse({"faults": len(state.faults)})

    async def add_post(request: Request) -> Response:
        body = await _json(request)
        try:
            post = state.add_post(Post(**body))
        except TypeError as exc:
            return error(400, f"bad post: {exc}")
        return JSONResponse(dataclasses.asdict(post), status_code=201)

    routes = [
        route("/x/2/tweets", "x.post_tweet", x_post_tweet, "POST"),
        route("/x/2/tweets/search/recent", "x.search", x_search, "GET"),
        route("/x/2/users/{id}/mentions", "x.mentions", x_mentions, "GET"),
        route("/x/2/tweets/{id}/hidden", "x.hide_reply", x_hide_reply, "PUT"),
        route(
            "/x/2/dm_conversations/with/{participant_id}/messages", "x.send_dm", x_send_dm, "POST"
        ),
        route(
            "/x/2/dm_conversations/with/{participant_id}/dm_events", "x.list_dms", x_list_dms, "GET"
        ),
        route("/graph/{object_id}/comments", "graph.comment", fb_comment, "POST"),
        route("/graph/{object_id}/replies", "graph.comment", fb_comment, "POST"),
        route("/graph/{object_id}/comments", "graph.list_comments", fb_list_comments, "GET"),
        route("/graph/{object_id}/replies", "graph.list_comments", fb_list_comments, "GET"),
        route("/graph/{object_id}/messages", "graph.private_reply", fb_private_reply, "POST"),
        route("/graph/{object_id}", "graph.edit", fb_edit_object, "POST"),
        route("/graph/{object_id}", "graph.delete", fb_delete, "DELETE"),
        route("/gbp/v4/{name:path}/reply", "gbp.reply", gbp_reply, "PUT"),
        route("/crm/customers", "crm.lookup", crm_lookup, "GET"),
        route("/slack/{hook:path}", "slack.hook", slack_hook, "POST"),
        route("/hooks/{hook:path}", "webhook.hook", slack_hook, "POST"),
        route("/zendesk/api/v2/tickets.json", "zendesk.ticket", zendesk_ticket, "POST"),
        Route("/_emulator/state", show_state, methods=["GET"]),
        Route("/_emulator/faults", add_fault, methods=["POST"]),
        Route("/_emulator/posts", add_post, methods=["POST"]),
    ]
    return _DropConnections(Starlette(routes=routes))


class _DropConnections:
    """Cuts an answer marked for dropping: its headers go out, its body never does, and the
    server closes the connection, as a network failure after the platform committed would."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        dropping = False

        async def guarded(message: MutableMapping[str, Any]) -> None:
            nonlocal dropping
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.decode().lower() != _DROP
                ]
                dropping = len(headers) != len(message.get("headers", []))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and dropping:
                raise _Dropped("connection dropped after the work was done")
            await send(message)

        await self.app(scope, receive, guarded)

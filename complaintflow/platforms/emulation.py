"""The shared machinery of the platform emulator: its state, injected faults, the credentials
each route takes, and the helpers every platform's emulated routes answer with.

Each platform's routes live in its folder (`platforms/<name>/emulator.py`, each behaviour
citing its documentation page); `complaintflow.devkit.emulator` assembles them into one app.
"""

import asyncio
import base64
import dataclasses
import itertools
import math
import random
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

# https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code: "By default,
# the access token you create through the Authorization Code Flow with PKCE will only stay
# valid for two hours unless you've used the offline.access scope."
X_USER_TOKEN_LIFETIME = 7200.0
# https://developers.google.com/identity/protocols/oauth2/web-server#offline: access tokens
# are short-lived (expires_in 3599 in the documented token answer).
GOOGLE_TOKEN_LIFETIME = 3599.0
X_CLIENT_ID = "complaintflow-dev"
GOOGLE_CLIENT_ID = "complaintflow-dev.apps.googleusercontent.com"
# https://developer.zendesk.com/api-reference/ticketing/introduction/#idempotency: a key is
# remembered for two hours; after that the same key creates a new ticket.
ZENDESK_KEY_LIFETIME = 2 * 3600.0
# https://developers.facebook.com/docs/graph-api/overview/rate-limiting/ and
# https://developers.facebook.com/docs/graph-api/guides/error-handling: throttling answers
# HTTP 400 with these error codes ("wait and retry").
META_THROTTLING_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015)})


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
    # X: "retweeted" or "quoted" when this post references another (referenced_tweets).
    references: str = ""
    # The text as the platform keeps and returns it when it differs from what the author
    # sent (X: the reply's leading @mentions, &<> escaped, links as t.co); "" = `text`.
    platform_text: str = ""

    @property
    def shown(self) -> str:
        """The text reads return."""
        return self.platform_text or self.text


@dataclasses.dataclass
class Fault:
    """Make calls to a route fail: `status` (with `retry_after`: Retry-After seconds, or on
    X the x-rate-limit-reset that many seconds ahead), `code` (a Graph error code inside a
    400 body, e.g. 613 throttling), `latency`, or `drop` (do the work, then drop the
    connection before answering). `times` 0 = every call; `rate` is the share of calls hit
    (1.0 = all)."""

    route: str
    status: int = 0
    retry_after: float = 0.0
    latency: float = 0.0
    drop: bool = False
    times: int = 0
    rate: float = 1.0
    code: int = 0
    hits: int = 0  # calls this fault has hit so far


@dataclasses.dataclass
class Grant:
    """One OAuth authorisation of the brand's account: its live tokens."""

    platform: str
    access_token: str
    expires_at: float
    refresh_token: str = ""


class EmulatorState:
    """Everything the emulator knows; tests read it through /_emulator/state or directly.

    `token` is the app's credentials everywhere a fixed secret is documented: X's app-only
    bearer (reads only), the long-lived Meta page token, the Zendesk API token, the Slack bot
    token, Google's OAuth client secret and the Google refresh token (which do not rotate).
    X user-context tokens come from the OAuth 2.0 flow (/x/i/oauth2/authorize and
    /x/2/oauth2/token); a refresh token `TOKEN:seed:ANYTHING` stands for a grant made before
    the emulator started (good once, like every X refresh token).
    """

    def __init__(
        self,
        *,
        token: str,
        brand_x_id: str,
        brand_page_id: str,
        seed: int = 0,
        user_token_lifetime: float = X_USER_TOKEN_LIFETIME,
        google_token_lifetime: float = GOOGLE_TOKEN_LIFETIME,
    ) -> None:
        self.token = token
        self.brand_x_id = brand_x_id
        self.brand_page_id = brand_page_id
        self.user_token_lifetime = user_token_lifetime
        self.google_token_lifetime = google_token_lifetime
        self.posts: dict[str, Post] = {}
        self.messages: list[dict[str, Any]] = []
        self.private_replies: dict[str, float] = {}  # comment id -> when
        # Messenger / Instagram Direct: when each customer (PSID / IGSID) last wrote to the
        # brand; the Send API's messaging window runs from it (see meta/emulator.py).
        self.customer_wrote: dict[str, float] = {}
        self.tickets: list[dict[str, Any]] = []
        # Zendesk Idempotency-Key -> (when first used, the ticket it created).
        self.zendesk_keys: dict[str, tuple[float, dict[str, Any]]] = {}
        self.zendesk_key_lifetime = ZENDESK_KEY_LIFETIME
        self.notifications: list[dict[str, Any]] = []
        self.customers: dict[str, dict[str, str]] = {}  # "platform:author id" -> {tier, id}
        # Slack: the channel each incoming webhook was created for, by its path after /slack/.
        self.slack_hook_channels: dict[str, str] = {}
        # X recent search indexes posts a little after they are made: posts younger than
        # this many seconds are not found yet (0: found at once).
        self.search_lag = 0.0
        # Refusing a repeated text with 403 "duplicate content" is a heuristic of X's, not a
        # documented guarantee of POST /2/tweets; a run can switch it off to check that
        # exactly-once never depends on it.
        self.x_refuses_duplicates = True
        # The workspace's channels for chat.postMessage; None: every channel named exists.
        self.slack_channels: set[str] | None = None
        self.faults: list[Fault] = []
        self.calls: list[str] = []
        # Every request as made (for contract tests): route, method, path, query, body, auth.
        self.requests: list[dict[str, Any]] = []
        # OAuth: live user tokens, refresh tokens still good, authorisation codes waiting.
        self.access_tokens: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, Grant] = {}
        self.spent_refresh_tokens: set[str] = set()
        self.codes: dict[str, dict[str, str]] = {}
        self.refreshes = 0  # refresh grants answered
        self.refused_refreshes = 0  # refresh tokens refused (spent or unknown)
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

    def add_message(self, platform: str, sender: str, to: str, text: str) -> dict[str, Any]:
        """A Direct Message from `sender` to `to` (a customer's to the brand, for instance)."""
        message = {"platform": platform, "sender": sender, "to": to, "text": text}
        message["id"] = self.new_id()
        self.messages.append(message)
        return message

    def x_username(self, user_id: str) -> str:
        """The @username X shows for a user id (the brand's from GET /2/users/me)."""
        return "brand" if user_id == self.brand_x_id else f"user{user_id}"

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

    def issue(self, platform: str, lifetime: float, *, refresh: bool = True) -> Grant:
        """A fresh access token (and rotating refresh token) for the brand's account."""
        grant = Grant(
            platform,
            access_token=secrets.token_urlsafe(24),
            expires_at=time.time() + lifetime,
            refresh_token=secrets.token_urlsafe(24) if refresh else "",
        )
        self.access_tokens[grant.access_token] = grant
        if grant.refresh_token:
            self.refresh_tokens[grant.refresh_token] = grant
        return grant

    def user_token(self, header: str, platform: str) -> str:
        """ "ok", "expired" or "" (not a user token of `platform`) for an Authorization header."""
        grant = self.access_tokens.get(header.removeprefix("Bearer "))
        if grant is None or grant.platform != platform or not header.startswith("Bearer "):
            return ""
        return "ok" if time.time() < grant.expires_at else "expired"

    def snapshot(self) -> dict[str, Any]:
        return {
            "posts": [dataclasses.asdict(p) for p in self.posts.values()],
            "messages": self.messages,
            "tickets": self.tickets,
            "notifications": self.notifications,
            "calls": self.calls,
            "refreshes": self.refreshes,
            "refused_refreshes": self.refused_refreshes,
        }


DROP_HEADER = "x-emulator-drop"


class _Dropped(Exception):
    """Raised after the answer's headers went out, so the server closes the connection."""


def error(status: int, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"message": detail, "code": status}, **extra}, status_code=status)


def x_problem(status: int, title: str, detail: str, kind: str = "about:blank") -> JSONResponse:
    """X API v2's problem shape (https://docs.x.com/x-api/fundamentals/response-codes-and-errors)."""
    body = {"title": title, "detail": detail, "type": kind, "status": status}
    return JSONResponse(body, status_code=status)


def graph_error(message: str, code: int, subcode: int = 0, status: int = 400) -> JSONResponse:
    """Graph's error shape (https://developers.facebook.com/docs/graph-api/guides/error-handling)."""
    body: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if subcode:
        body["error_subcode"] = subcode
    body["fbtrace_id"] = "Aemulator"
    return JSONResponse({"error": body}, status_code=status)


Handler = Callable[[Request, EmulatorState], Awaitable[Response]]

# Answered when an app-only bearer calls an endpoint that needs a user
# (https://docs.x.com/fundamentals/authentication/guides/v2-authentication-mapping: posting,
# hiding replies and Direct Messages support OAuth 1.0a / OAuth 2.0 user context only).
_X_APP_ONLY = (
    "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported "
    "authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context]."
)


def _refused(request: Request, state: EmulatorState, auth: str) -> Response | None:
    """None when the call's credentials are good for `auth`; else the platform's answer."""
    header = request.headers.get("authorization", "")
    if auth in ("x-user", "x-read"):
        user = state.user_token(header, "x")
        if user == "ok":
            return None
        if user == "" and header == f"Bearer {state.token}":
            if auth == "x-read":
                return None
            return x_problem(
                403,
                "Unsupported Authentication",
                _X_APP_ONLY,
                "https://api.twitter.com/2/problems/unsupported-authentication",
            )
        return x_problem(401, "Unauthorized", "Unauthorized")
    if auth == "google":
        if state.user_token(header, "google") == "ok":
            return None
        # https://developers.google.com/my-business/content/basic-setup: 401 UNAUTHENTICATED
        return JSONResponse(
            {
                "error": {
                    "code": 401,
                    "message": "Request had invalid authentication credentials.",
                    "status": "UNAUTHENTICATED",
                }
            },
            status_code=401,
        )
    if auth == "bearer":
        if header == f"Bearer {state.token}":
            return None
        # https://developers.facebook.com/docs/graph-api/guides/error-handling: code 190
        return graph_error("Invalid OAuth access token.", 190, status=401)
    if auth == "basic":  # Zendesk API tokens: base64("email/token:TOKEN")
        try:
            decoded = base64.b64decode(header.removeprefix("Basic ")).decode()
        except ValueError:
            decoded = ""
        if header.startswith("Basic ") and decoded.endswith(f"/token:{state.token}"):
            return None
        return error(401, "Couldn't authenticate you")
    return None  # incoming webhooks, OAuth token endpoints: checked by their handlers


def _x_rate_limited(fault: Fault) -> JSONResponse:
    """X's 429 (https://docs.x.com/fundamentals/rate-limits): x-rate-limit-limit/-remaining/
    -reset (epoch seconds), no Retry-After."""
    reset = math.ceil(time.time() + fault.retry_after)
    return JSONResponse(
        {
            "title": "Too Many Requests",
            "detail": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
        },
        status_code=429,
        headers={
            "x-rate-limit-limit": "300",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(reset),
        },
    )


def _injected(name: str, fault: Fault) -> Response:
    if name.startswith("x.") and fault.status == 429:
        return _x_rate_limited(fault)
    if name.startswith(("graph.", "ig.")) and fault.code:
        return graph_error(
            f"(#{fault.code}) Application request limit reached"
            if fault.code in META_THROTTLING_CODES
            else f"(#{fault.code}) injected",
            fault.code,
            status=fault.status or 400,
        )
    headers = {"Retry-After": str(int(fault.retry_after))} if fault.retry_after else {}
    return JSONResponse(
        {"error": {"message": f"injected {fault.status}"}},
        status_code=fault.status,
        headers=headers,
    )


def endpoint_for(
    name: str, state: EmulatorState, handler: Handler, auth: str
) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        if not name.endswith(".token"):  # token grants are counted apart (state.refreshes)
            state.calls.append(name)
        state.requests.append(await _recorded(name, request, state))
        refused = _refused(request, state, auth)
        if refused is not None:
            return refused
        fault = state.fault_for(name)
        if fault and fault.latency:
            await asyncio.sleep(fault.latency)
        if fault and (fault.status or fault.code):
            return _injected(name, fault)
        response = await handler(request, state)
        if state.listener and request.method != "GET" and response.status_code < 400:
            state.listener(name, request.url.path, await read_json(request))
        if fault and fault.drop and response.status_code < 400:
            response.headers[DROP_HEADER] = "1"  # committed; DropConnections cuts the answer
        return response

    return run


async def _recorded(name: str, request: Request, state: EmulatorState) -> dict[str, Any]:
    header = request.headers.get("authorization", "")
    token = header.removeprefix("Bearer ")
    grant = state.access_tokens.get(token) if header.startswith("Bearer ") else None
    auth = (
        f"{grant.platform}-user"
        if grant is not None
        else "app"
        if header == f"Bearer {state.token}"
        else "basic"
        if header.startswith("Basic ")
        else "bearer-unknown"
        if header
        else "none"
    )
    kind = request.headers.get("content-type", "")
    body: Any = None
    if kind.startswith("application/x-www-form-urlencoded"):
        body = await read_form(request)
    elif await request.body():
        try:
            body = await request.json()
        except ValueError:
            body = (await request.body()).decode(errors="replace")
    return {
        "route": name,
        "method": request.method,
        "path": request.url.path,
        "query": dict(request.query_params),
        "body": body,
        "auth": auth,
        "content_type": kind,
    }


async def read_json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def read_form(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body (what OAuth token endpoints take)."""
    return dict(parse_qsl((await request.body()).decode(errors="replace")))


# -- OAuth answers shared by the platforms' token endpoints -----------------------------------
def oauth_error(kind: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": kind, "error_description": description}, status_code=status)


def token_answer(grant: Grant, scope: str, lifetime: float) -> JSONResponse:
    body: dict[str, Any] = {
        "token_type": "bearer",
        "expires_in": int(lifetime),
        "access_token": grant.access_token,
        "scope": scope,
    }
    if grant.refresh_token:
        body["refresh_token"] = grant.refresh_token
    return JSONResponse(body)


# Each platform's routes: (path, name, handler, method). The name is what calls, faults and
# AUTHS are keyed by; several paths may share one. The first matching path and method answers.
RouteRow = tuple[str, str, Handler, str]


class DropConnections:
    """Cuts an answer marked for dropping: its headers go out, its body never does, and the
    server closes the connection, as a network failure after the platform committed would."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        dropping = False

        async def guarded(message: MutableMapping[str, Any]) -> None:
            nonlocal dropping
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.decode().lower() != DROP_HEADER
                ]
                dropping = len(headers) != len(message.get("headers", []))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and dropping:
                raise _Dropped("connection dropped after the work was done")
            await send(message)

        await self.app(scope, receive, guarded)

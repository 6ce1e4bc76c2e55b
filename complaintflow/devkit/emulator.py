"""A local emulator of the platform APIs complaintflow calls, following their documentation.

An ASGI app with in-memory state (posts, threads, hidden flags, private messages, tickets,
notifications, OAuth grants) that behaves as each platform documents it, inconvenient parts
included: X refuses app-only tokens for writes, user tokens expire and refresh tokens rotate,
default field sets and pagination, X's x-rate-limit-* headers, Meta's throttling codes inside
400 bodies, Graph's code 100 for deleted objects, Instagram's field names, Slack webhooks that
ignore `channel`. Faults are injected per route (status codes, latency, "commit then drop the
connection"). Mounted under /x, /graph, /gbp, /google, /slack, /zendesk; /_emulator exposes
the state and takes faults and seeded posts. Each behaviour names its documentation page.
"""

import asyncio
import base64
import dataclasses
import hashlib
import html
import itertools
import math
import random
import re
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

X_LIMIT = 280
PRIVATE_REPLY_WINDOW = 7 * 24 * 3600
# https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code: "By default,
# the access token you create through the Authorization Code Flow with PKCE will only stay
# valid for two hours unless you've used the offline.access scope."
X_USER_TOKEN_LIFETIME = 7200.0
# https://developers.google.com/identity/protocols/oauth2/web-server#offline: access tokens
# are short-lived (expires_in 3599 in the documented token answer).
GOOGLE_TOKEN_LIFETIME = 3599.0
X_CLIENT_ID = "complaintflow-dev"
GOOGLE_CLIENT_ID = "complaintflow-dev.apps.googleusercontent.com"
# https://docs.x.com/x-api/fundamentals/data-dictionary ("Default fields"): a post carries
# only id, text and edit_history_tweet_ids unless tweet.fields/expansions ask for more.
X_DEFAULT_FIELDS = ("id", "text", "edit_history_tweet_ids")
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


_DROP = "x-emulator-drop"


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


def _endpoint(
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
            state.listener(name, request.url.path, await _json(request))
        if fault and fault.drop and response.status_code < 400:
            response.headers[_DROP] = "1"  # committed; _DropConnections cuts the answer
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
        body = await _form(request)
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


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def _form(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body (what OAuth token endpoints take)."""
    return dict(parse_qsl((await request.body()).decode(errors="replace")))


# -- OAuth -----------------------------------------------------------------------------------
async def x_authorize(request: Request, state: EmulatorState) -> Response:
    """The consent page, consenting at once as the brand's account; redirects with a code.

    https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token: response_type
    =code, client_id, redirect_uri, scope, state, code_challenge, code_challenge_method.
    """
    params = request.query_params
    missing = [
        key
        for key in (
            "response_type",
            "client_id",
            "redirect_uri",
            "scope",
            "state",
            "code_challenge",
            "code_challenge_method",
        )
        if not params.get(key)
    ]
    if missing or params["response_type"] != "code":
        return error(400, f"missing or wrong authorisation parameters: {', '.join(missing)}")
    if params["code_challenge_method"] not in ("S256", "plain"):
        return error(400, "code_challenge_method must be S256 or plain")
    code = secrets.token_urlsafe(16)
    state.codes[code] = dict(params)
    target = params["redirect_uri"] + "?" + urlencode({"state": params["state"], "code": code})
    return RedirectResponse(target, status_code=302)


def _oauth_error(kind: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": kind, "error_description": description}, status_code=status)


async def x_token(request: Request, state: EmulatorState) -> Response:
    """POST /2/oauth2/token (https://docs.x.com/fundamentals/authentication/oauth-2-0/
    user-access-token): grant_type authorization_code (code, redirect_uri, code_verifier,
    client_id) or refresh_token. Each refresh returns a new refresh token and the old one
    stops working; access tokens live two hours (expires_in 7200)."""
    form = await _form(request)
    client_id = form.get("client_id", "")
    header = request.headers.get("authorization", "")
    if header.startswith("Basic "):  # confidential clients authenticate with Basic
        client_id = base64.b64decode(header[6:]).decode(errors="replace").split(":", 1)[0]
    if client_id != X_CLIENT_ID:
        return _oauth_error("unauthorized_client", "Missing valid authorization header", 401)
    grant_type = form.get("grant_type", "")
    if grant_type == "authorization_code":
        asked = state.codes.pop(form.get("code", ""), None)
        if asked is None:
            return _oauth_error(
                "invalid_request", "Value passed for the authorization code was invalid."
            )
        verifier = form.get("code_verifier", "")
        expected = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .decode()
            .rstrip("=")
            if asked["code_challenge_method"] == "S256"
            else verifier
        )
        if expected != asked["code_challenge"] or form.get("redirect_uri") != asked["redirect_uri"]:
            return _oauth_error(
                "invalid_request", "Value passed for the authorization code was invalid."
            )
        offline = "offline.access" in asked["scope"].split()
        grant = state.issue("x", state.user_token_lifetime, refresh=offline)
        return _token_answer(grant, asked["scope"], state.user_token_lifetime)
    if grant_type == "refresh_token":
        given = form.get("refresh_token", "")
        old = state.refresh_tokens.pop(given, None)
        if (
            old is None
            and given.startswith(f"{state.token}:seed:")
            and given not in state.spent_refresh_tokens
        ):
            old = Grant("x", "", 0.0, given)
        if old is None or old.platform != "x":
            state.refused_refreshes += 1
            return _oauth_error("invalid_request", "Value passed for the token was invalid.")
        state.spent_refresh_tokens.add(given)
        state.refreshes += 1
        grant = state.issue("x", state.user_token_lifetime)
        return _token_answer(
            grant,
            "tweet.read tweet.write users.read dm.read dm.write offline.access",
            state.user_token_lifetime,
        )
    return _oauth_error("invalid_request", f"unsupported grant_type {grant_type!r}")


async def google_token(request: Request, state: EmulatorState) -> Response:
    """POST https://oauth2.googleapis.com/token with grant_type=refresh_token, client_id,
    client_secret (https://developers.google.com/identity/protocols/oauth2/web-server#offline):
    a new access token; Google's refresh token stays the same and is not returned again."""
    form = await _form(request)
    if form.get("client_id") != GOOGLE_CLIENT_ID or form.get("client_secret") != state.token:
        return _oauth_error("invalid_client", "The OAuth client was not found.", 401)
    if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != state.token:
        state.refused_refreshes += 1
        return _oauth_error("invalid_grant", "Bad Request")
    state.refreshes += 1
    grant = state.issue("google", state.google_token_lifetime, refresh=False)
    return _token_answer(
        grant, "https://www.googleapis.com/auth/business.manage", state.google_token_lifetime
    )


def _token_answer(grant: Grant, scope: str, lifetime: float) -> JSONResponse:
    body: dict[str, Any] = {
        "token_type": "bearer",
        "expires_in": int(lifetime),
        "access_token": grant.access_token,
        "scope": scope,
    }
    if grant.refresh_token:
        body["refresh_token"] = grant.refresh_token
    return JSONResponse(body)


# -- X API v2 --------------------------------------------------------------------------------
def _x_id(value: str) -> bool:
    return value.isdigit() and 0 < len(value) <= 19


async def x_me(request: Request, state: EmulatorState) -> Response:
    """GET /2/users/me (https://docs.x.com/x-api/users/user-lookup-me): the token's user."""
    return JSONResponse({"data": {"id": state.brand_x_id, "name": "Brand", "username": "brand"}})


# X's text as it keeps it. Replies: "@names that auto-populate at the start of a reply Tweet"
# (https://developer.x.com/en/docs/tweets/tweet-updates): the replied-to author, then the
# leading @mentions of the post replied to, never the replier. Links: "All links submitted
# within Tweets ... will eventually be wrapped with the t.co shortener", links without a
# protocol too, trailing periods and commas not part of them (https://developer.x.com/en/
# docs/tco). &, < and > come back HTML-escaped: the text field is "the actual UTF-8 text"
# (https://docs.x.com/x-api/fundamentals/data-dictionary), as X serves it, escaped (seen and
# decoded by clients: https://kbravh.dev/html-entities-twitter-api-v2).
_X_LEADING_MENTIONS = re.compile(r"^(?:@(\w{1,15})\s+)+")
_X_LINK = re.compile(
    r"https?://[^\s]+?(?=[.,]*(?:\s|$))"
    r"|(?<![\w@.\-/])(?:[a-z0-9-]+\.)+(?:com|net|org|io|co|ly|me|app|dev|info|biz|uk|de)"
    r"(?![\w-])(?:/[^\s]*?)?(?=[.,]*(?:\s|$))",
    re.IGNORECASE,
)


def _leading_mentions(text: str) -> list[str]:
    found = _X_LEADING_MENTIONS.match(text)
    return re.findall(r"@(\w{1,15})", found.group(0)) if found else []


def _t_co(url: str) -> str:
    digest = hashlib.sha256(url.encode()).digest()
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "https://t.co/" + "".join(alphabet[b % len(alphabet)] for b in digest[:10])


def x_kept_text(state: EmulatorState, author: str, text: str, parent: Post | None) -> str:
    """`text` posted by `author` as X keeps and returns it (see the pages above)."""
    kept = _X_LINK.sub(lambda link: _t_co(link.group(0)), text)
    kept = html.escape(kept, quote=False)
    if parent is None:
        return kept
    mine = state.x_username(author).lower()
    already = {name.lower() for name in _leading_mentions(kept)}
    names = [state.x_username(parent.author_id), *_leading_mentions(parent.shown)]
    prefix: list[str] = []
    for name in names:
        if name.lower() not in already | {mine}:
            already.add(name.lower())
            prefix.append(f"@{name}")
    return " ".join([*prefix, kept])


async def x_post_tweet(request: Request, state: EmulatorState) -> Response:
    """POST /2/tweets (https://docs.x.com/x-api/posts/create-post): {text, reply:
    {in_reply_to_tweet_id}}; 201 {data: {id, text}}, the text as X keeps it (x_kept_text).
    Posting the same text again is refused with 403 "duplicate content" (modelled within one
    thread)."""
    body = await _json(request)
    text = str(body.get("text", ""))
    if not text or len(text) > X_LIMIT:
        return error(403, f"Tweet text must be 1 to {X_LIMIT} characters, got {len(text)}")
    parent = str((body.get("reply") or {}).get("in_reply_to_tweet_id", ""))
    if parent and parent not in state.posts:
        return error(400, f"in_reply_to_tweet_id {parent} does not exist")
    if state.x_refuses_duplicates and any(  # the same text again in the same thread
        p.platform == "x"
        and p.author_id == state.brand_x_id
        and p.text == text
        and p.in_reply_to == parent
        and not p.deleted
        for p in state.posts.values()
    ):
        return x_problem(
            403, "Forbidden", "You are not allowed to create a Tweet with duplicate content."
        )
    kept = x_kept_text(state, state.brand_x_id, text, state.posts.get(parent))
    post = state.add_post(
        Post(state.new_id(), "x", state.brand_x_id, text, in_reply_to=parent, platform_text=kept)
    )
    return JSONResponse({"data": {"id": post.id, "text": post.shown}}, status_code=201)


async def x_hide_reply(request: Request, state: EmulatorState) -> Response:
    """PUT /2/tweets/:tweet_id/hidden {hidden: true} (https://docs.x.com/x-api/posts/
    hide-reply): only replies in conversations the authenticated user started."""
    post = state.posts.get(request.path_params["id"])
    if post is None:
        return error(404, "Tweet not found")
    root = state.posts.get(post.conversation_id)
    if root is None or root.author_id != state.brand_x_id:
        return error(403, "You can only hide replies in conversations you started")
    post.hidden = bool((await _json(request)).get("hidden", True))
    return JSONResponse({"data": {"hidden": post.hidden}})


async def x_send_dm(request: Request, state: EmulatorState) -> Response:
    """POST /2/dm_conversations/with/:participant_id/messages (https://docs.x.com/x-api/
    direct-messages/create-dm-message-by-participant-id): {text}; 201 {data:
    {dm_conversation_id, dm_event_id}}."""
    participant = request.path_params["participant_id"]
    if not _x_id(participant):
        return x_problem(400, "Invalid Request", f"The `participant_id` {participant!r} is invalid")
    text = str((await _json(request)).get("text", ""))
    if not text:
        return error(400, "text is required")
    event = state.add_message("x", state.brand_x_id, participant, text)["id"]
    return JSONResponse(
        {
            "data": {
                "dm_conversation_id": f"{state.brand_x_id}-{participant}",
                "dm_event_id": event,
            }
        },
        status_code=201,
    )


async def x_list_dms(request: Request, state: EmulatorState) -> Response:
    """GET /2/dm_conversations/with/:participant_id/dm_events (https://docs.x.com/x-api/
    direct-messages/get-dm-events-for-a-dm-conversation): the messages of the one-to-one
    conversation, both ways, newest first: {data: [{id, event_type, text}], meta:
    {result_count}}; id, event_type and text are the default fields, sender_id and
    created_at come only when named in dm_event.fields (https://docs.x.com/x-api/
    fundamentals/data-dictionary, DM event object)."""
    participant = request.path_params["participant_id"]
    brand = state.brand_x_id
    asked = set(filter(None, request.query_params.get("dm_event.fields", "").split(",")))
    found = [
        m
        for m in state.messages
        if m["platform"] == "x" and {m.get("sender", brand), m["to"]} == {brand, participant}
    ]
    data = []
    for message in reversed(found):
        # Links in Direct Messages are wrapped with t.co too (https://developer.x.com/en/docs/tco).
        text = _X_LINK.sub(lambda link: _t_co(link.group(0)), message["text"])
        event = {"id": message["id"], "event_type": "MessageCreate", "text": text}
        if "sender_id" in asked:
            event["sender_id"] = message.get("sender", brand)
        data.append(event)
    return JSONResponse({"data": data, "meta": {"result_count": len(data)}})


def _tweet(post: Post, fields: set[str], authors: bool) -> dict[str, Any]:
    """A post as X v2 shows it: the default fields plus those asked for."""
    data: dict[str, Any] = {"id": post.id, "text": post.shown, "edit_history_tweet_ids": [post.id]}
    extra = {
        "author_id": post.author_id,
        "conversation_id": post.conversation_id,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(post.created)),
        "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 0, "quote_count": 0},
    }
    for key, value in extra.items():
        if key in fields or (key == "author_id" and authors):
            data[key] = value
    if "in_reply_to_user_id" in fields and post.in_reply_to:
        data["in_reply_to_user_id"] = ""
    if "referenced_tweets" in fields and (post.references or post.in_reply_to):
        data["referenced_tweets"] = [
            {"type": post.references or "replied_to", "id": post.in_reply_to or post.id}
        ]
    return data


def _after(post_id: str, since: str) -> bool:
    return (len(post_id), post_id) > (len(since), since)


def _x_page(
    request: Request, state: EmulatorState, found: list[Post], *, default_size: int
) -> Response:
    """One page of posts, newest first, shaped by tweet.fields/expansions/user.fields, with
    meta.next_token when more remain (https://docs.x.com/x-api/fundamentals/pagination)."""
    params = request.query_params
    try:
        size = int(params.get("max_results", default_size))
    except ValueError:
        size = -1
    if not 5 <= size <= 100:
        return x_problem(
            400,
            "Invalid Request",
            "The `max_results` query parameter value is not between 5 and 100",
        )
    found.sort(key=lambda p: (len(p.id), p.id), reverse=True)
    start = 0
    if token := params.get("pagination_token") or params.get("next_token"):
        if not token.startswith("page-") or not token[5:].isdigit():
            return x_problem(
                400, "Invalid Request", "The `pagination_token` query parameter value is invalid"
            )
        start = int(token[5:])
    page = found[start : start + size]
    fields = set(filter(None, params.get("tweet.fields", "").split(",")))
    expansions = set(filter(None, params.get("expansions", "").split(",")))
    authors = "author_id" in expansions
    body: dict[str, Any] = {"data": [_tweet(p, fields, authors) for p in page]} if page else {}
    if authors and page:
        user_fields = set(filter(None, params.get("user.fields", "").split(",")))
        users = []
        for author in dict.fromkeys(p.author_id for p in page):
            user: dict[str, Any] = {
                "id": author,
                "name": f"User {author}",
                "username": f"user{author}",
            }
            if "public_metrics" in user_fields:
                user["public_metrics"] = {
                    "followers_count": 10,
                    "following_count": 1,
                    "tweet_count": 1,
                    "listed_count": 0,
                }
            if "verified" in user_fields:
                user["verified"] = False
            users.append(user)
        body["includes"] = {"users": users}
    meta: dict[str, Any] = {"result_count": len(page)}
    if page:
        meta["newest_id"] = page[0].id
        meta["oldest_id"] = page[-1].id
    if start + size < len(found):
        meta["next_token"] = f"page-{start + size}"
    body["meta"] = meta
    return JSONResponse(body)


async def x_mentions(request: Request, state: EmulatorState) -> Response:
    """GET /2/users/:id/mentions (https://docs.x.com/x-api/posts/user-mention-timeline-by-
    user-id): posts mentioning the user after since_id, newest first, 10 a page by default
    (max_results 5-100), default fields only unless asked."""
    since = request.query_params.get("since_id", "")
    found = [
        p
        for p in state.posts.values()
        if p.platform == "x"
        and not p.deleted
        and p.author_id != request.path_params["id"]
        and (not since or _after(p.id, since))
    ]
    return _x_page(request, state, found, default_size=10)


async def x_user_tweets(request: Request, state: EmulatorState) -> Response:
    """GET /2/users/:id/tweets, the User Post timeline (https://developer.x.com/en/docs/
    x-api/tweets/timelines): the posts the user published, replies included unless
    exclude=replies, newest first, 10 a page by default (max_results 5-100). It reads the
    user's own posts, not recent search's index, so search_lag does not apply."""
    params = request.query_params
    exclude = set(filter(None, params.get("exclude", "").split(",")))
    if exclude - {"replies", "retweets"}:
        return x_problem(
            400,
            "Invalid Request",
            "The `exclude` query parameter value is not one of [retweets, replies]",
        )
    since = params.get("since_id", "")
    found = [
        p
        for p in state.posts.values()
        if p.platform == "x"
        and not p.deleted
        and p.author_id == request.path_params["id"]
        and not ("replies" in exclude and p.in_reply_to)
        and not ("retweets" in exclude and p.references == "retweeted")
        and (not since or _after(p.id, since))
    ]
    return _x_page(request, state, found, default_size=10)


async def x_search(request: Request, state: EmulatorState) -> Response:
    """GET /2/tweets/search/recent (https://docs.x.com/x-api/posts/search/integrate/build-a-
    query): operators conversation_id:, from:, in_reply_to_tweet_id:; 10 a page by default."""
    query = request.query_params.get("query", "")
    terms = dict(part.split(":", 1) for part in query.split() if ":" in part)
    found = [
        p
        for p in state.posts.values()
        if p.platform == "x"
        and not p.deleted
        and (not terms.get("conversation_id") or p.conversation_id == terms["conversation_id"])
        and (not terms.get("from") or p.author_id == terms["from"])
        and (
            not terms.get("in_reply_to_tweet_id") or p.in_reply_to == terms["in_reply_to_tweet_id"]
        )
        and time.time() - p.created >= state.search_lag
    ]
    return _x_page(request, state, found, default_size=10)


# -- Facebook Graph (Pages) and Instagram ---------------------------------------------------
def _gone(verb: str, object_id: str) -> JSONResponse:
    """What Graph answers for an object that does not exist (any more): HTTP 400, code 100,
    subcode 33 (https://developers.facebook.com/docs/graph-api/guides/error-handling)."""
    return graph_error(
        f"Unsupported {verb} request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation.",
        100,
        33,
    )


async def graph_me(request: Request, state: EmulatorState) -> Response:
    """GET /me with a Page access token is the Page itself
    (https://developers.facebook.com/docs/pages-api/getting-started)."""
    return JSONResponse({"id": state.brand_page_id, "name": "Brand"})


async def fb_comment(request: Request, state: EmulatorState) -> Response:
    """POST /{object-id}/comments {message} on Facebook
    (https://developers.facebook.com/docs/graph-api/reference/object/comments/), POST
    /{ig-comment-id}/replies?message= on Instagram (https://developers.facebook.com/docs/
    instagram-platform/instagram-graph-api/reference/ig-comment/replies); {"id"}."""
    parent = request.path_params["object_id"]
    post = state.posts.get(parent)
    if post is None or post.deleted:
        return _gone("post", parent)
    message = request.query_params.get("message") or str((await _json(request)).get("message", ""))
    if not message:
        return graph_error("(#100) The parameter message is required", 100)
    if post.platform == "instagram" and post.hidden:
        return graph_error("(#100) You cannot reply to hidden comments", 100)
    if post.platform == "instagram":
        # "You can only reply to top-level comments; replies to a reply will be added to
        # the top-level comment." (ig-comment/replies, Limitations)
        parent = _top_level_comment(state, post).id
    new_id = state.new_id() if post.platform == "instagram" else f"{parent}_{state.new_id()}"
    reply = state.add_post(
        Post(new_id, post.platform, state.brand_page_id, message, in_reply_to=parent)
    )
    return JSONResponse({"id": reply.id})


def _top_level_comment(state: EmulatorState, comment: Post) -> Post:
    """The top-level comment of an Instagram comment's thread (media are not modelled: a
    comment whose parent is not another Instagram comment is top-level)."""
    seen = {comment.id}
    while (parent := state.posts.get(comment.in_reply_to)) is not None:
        if parent.platform != "instagram" or parent.id in seen:
            break
        seen.add(parent.id)
        comment = parent
    return comment


async def fb_edit_object(request: Request, state: EmulatorState) -> Response:
    """Hide a comment: POST /{comment-id} is_hidden=true on Facebook
    (https://developers.facebook.com/docs/graph-api/reference/comment/), hide=true on
    Instagram (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/
    reference/ig-comment)."""
    object_id = request.path_params["object_id"]
    post = state.posts.get(object_id)
    if post is None or post.deleted:
        return _gone("post", object_id)
    body = {**(await _json(request)), **request.query_params}
    flag = "hide" if post.platform == "instagram" else "is_hidden"
    if flag not in body:
        return graph_error(f"(#100) The parameter {flag} is required", 100)
    post.hidden = str(body[flag]).lower() in ("true", "1")
    return JSONResponse({"success": True})


async def fb_delete(request: Request, state: EmulatorState) -> Response:
    """DELETE /{comment-id} (https://developers.facebook.com/docs/graph-api/reference/
    comment/#deleting): {success: true}; a second delete gets code 100 subcode 33, not 404
    (see _gone)."""
    object_id = request.path_params["object_id"]
    post = state.posts.get(object_id)
    if post is None or post.deleted:
        return _gone("delete", object_id)
    post.deleted = True
    return JSONResponse({"success": True})


async def fb_list_comments(request: Request, state: EmulatorState) -> Response:
    """GET /{object-id}/comments or /{ig-comment-id}/replies. Facebook comments carry
    `message`, Instagram comments `text`; `from` comes only when asked for in `fields`
    (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/
    ig-comment: "from" gives {id, username})."""
    parent = request.path_params["object_id"]
    top = state.posts.get(parent)
    if top is None or top.deleted:
        return _gone("get", parent)
    asked = set(filter(None, request.query_params.get("fields", "").split(",")))
    found = [p for p in state.posts.values() if p.in_reply_to == parent and not p.deleted]
    # order=chronological (default) | reverse_chronological; limit: page size (25 default)
    if request.query_params.get("order") == "reverse_chronological":
        found.reverse()
    try:
        limit = int(request.query_params.get("limit", "25"))
    except ValueError:
        return graph_error("(#100) limit must be an integer", 100)
    found = found[: max(1, limit)]
    data = []
    for comment in found:
        instagram = comment.platform == "instagram"
        shown: dict[str, Any] = {"id": comment.id}
        if instagram:
            shown["text"] = comment.text
            shown["timestamp"] = time.strftime(
                "%Y-%m-%dT%H:%M:%S+0000", time.gmtime(comment.created)
            )
        else:
            shown["message"] = comment.text
            shown["created_time"] = time.strftime(
                "%Y-%m-%dT%H:%M:%S+0000", time.gmtime(comment.created)
            )
        if "from" in asked:
            shown["from"] = (
                {"id": comment.author_id, "username": f"user{comment.author_id}"}
                if instagram
                else {"id": comment.author_id, "name": f"User {comment.author_id}"}
            )
        if asked:
            shown = {k: v for k, v in shown.items() if k in asked or k == "id"}
        data.append(shown)
    return JSONResponse({"data": data})


async def fb_private_reply(request: Request, state: EmulatorState) -> Response:
    """POST /{PAGE-ID}/messages {recipient: {comment_id}, message: {text}}: a private reply to
    a Facebook or Instagram comment, sent as the Page; one per comment, within 7 days
    (https://developers.facebook.com/docs/messenger-platform/discovery/private-replies/)."""
    if request.path_params["object_id"] != state.brand_page_id:
        return graph_error("(#200) Messages can only be sent from the page", 200, status=403)
    body = await _json(request)
    comment = str((body.get("recipient") or {}).get("comment_id", ""))
    text = str((body.get("message") or {}).get("text", ""))
    post = state.posts.get(comment)
    if post is None:
        return graph_error("(#100) recipient.comment_id does not exist", 100)
    if comment in state.private_replies:
        return graph_error(
            "(#10900) Activity already replied to: one private reply per comment", 10900
        )
    if time.time() - post.created > PRIVATE_REPLY_WINDOW:
        return graph_error("(#10900) The comment is older than 7 days", 10900)
    state.private_replies[comment] = time.time()
    message = state.new_id("m_")
    state.messages.append(
        {"platform": post.platform, "comment_id": comment, "text": text, "id": message}
    )
    return JSONResponse({"recipient_id": post.author_id, "message_id": message})


# -- Google Business Profile reviews ---------------------------------------------------------
async def gbp_reply(request: Request, state: EmulatorState) -> Response:
    """PUT v4/{name=accounts/*/locations/*/reviews/*}/reply {comment}
    (https://developers.google.com/my-business/reference/rest/v4/accounts.locations.reviews/
    updateReply): creates or replaces the review's one reply; OAuth access token required."""
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
    """An incoming webhook posts to the one channel it was created for; a `channel` in the
    body is ignored (https://docs.slack.dev/messaging/sending-messages-using-incoming-
    webhooks: "You cannot override the default channel ... chosen by the user")."""
    hook = request.path_params["hook"]
    body = await _json(request)
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
    body = await _json(request)
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
    state.notifications.append({"hook": request.path_params["hook"], **(await _json(request))})
    return Response("ok")


async def zendesk_ticket(request: Request, state: EmulatorState) -> Response:
    """POST /api/v2/tickets.json {ticket: {subject, comment, ...}}; 201 {ticket}
    (https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#create-ticket).
    A repeated Idempotency-Key replays the first answer for two hours; after that the key
    is forgotten and the same request opens another ticket
    (https://developer.zendesk.com/api-reference/ticketing/introduction/#idempotency)."""
    ticket = (await _json(request)).get("ticket")
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


# The credentials each route takes (see _refused): "x-user" an X user-context token, "x-read"
# any X token, "google" a Google user token, "basic" a Zendesk API token, "none" checked by
# the handler itself (webhooks, OAuth token endpoints); any other route: the Graph token.
AUTHS = {
    "x.token": "none",
    "x.authorize": "none",
    "x.post_tweet": "x-user",
    "x.hide_reply": "x-user",
    "x.send_dm": "x-user",
    "x.list_dms": "x-user",
    "x.me": "x-user",
    "x.mentions": "x-read",
    "x.search": "x-read",
    "gbp.reply": "google",
    "google.token": "none",
    "slack.hook": "none",
    "slack.post_message": "none",  # answers invalid_auth itself, as Slack does
    "slack.auth_test": "none",
    "webhook.hook": "none",
    "zendesk.ticket": "basic",
    "zendesk.list_tickets": "basic",
    "x.user_tweets": "x-read",
}

# Each platform's routes: (path, name, handler, method). The name is what calls, faults and
# AUTHS are keyed by; several paths may share one. The first matching path and method answers.
RouteRow = tuple[str, str, Handler, str]
X_ROUTES: tuple[RouteRow, ...] = (
    ("/x/i/oauth2/authorize", "x.authorize", x_authorize, "GET"),
    ("/x/2/oauth2/token", "x.token", x_token, "POST"),
    ("/x/2/users/me", "x.me", x_me, "GET"),
    ("/x/2/tweets", "x.post_tweet", x_post_tweet, "POST"),
    ("/x/2/tweets/search/recent", "x.search", x_search, "GET"),
    ("/x/2/users/{id}/mentions", "x.mentions", x_mentions, "GET"),
    ("/x/2/users/{id}/tweets", "x.user_tweets", x_user_tweets, "GET"),
    ("/x/2/tweets/{id}/hidden", "x.hide_reply", x_hide_reply, "PUT"),
    ("/x/2/dm_conversations/with/{participant_id}/messages", "x.send_dm", x_send_dm, "POST"),
    ("/x/2/dm_conversations/with/{participant_id}/dm_events", "x.list_dms", x_list_dms, "GET"),
)
META_ROUTES: tuple[RouteRow, ...] = (
    ("/graph/me", "graph.me", graph_me, "GET"),
    ("/graph/{object_id}/comments", "graph.comment", fb_comment, "POST"),
    ("/graph/{object_id}/replies", "graph.comment", fb_comment, "POST"),
    ("/graph/{object_id}/comments", "graph.list_comments", fb_list_comments, "GET"),
    ("/graph/{object_id}/replies", "graph.list_comments", fb_list_comments, "GET"),
    ("/graph/{object_id}/messages", "graph.private_reply", fb_private_reply, "POST"),
    ("/graph/{object_id}", "graph.edit", fb_edit_object, "POST"),
    ("/graph/{object_id}", "graph.delete", fb_delete, "DELETE"),
)
GOOGLE_ROUTES: tuple[RouteRow, ...] = (
    ("/google/token", "google.token", google_token, "POST"),
    ("/gbp/v4/{name:path}/reply", "gbp.reply", gbp_reply, "PUT"),
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
PLATFORM_ROUTES = (*X_ROUTES, *META_ROUTES, *GOOGLE_ROUTES, *OPERATIONS_ROUTES)


def _platform_route(state: EmulatorState, row: RouteRow) -> Route:
    path, name, handler, method = row
    endpoint = _endpoint(name, state, handler, AUTHS.get(name, "bearer"))
    return Route(path, endpoint, methods=[method], name=name)


class _Control:
    """The /_emulator routes over one state: show it, inject faults, seed posts."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    async def show_state(self, _request: Request) -> Response:
        return JSONResponse(self.state.snapshot())

    async def add_fault(self, request: Request) -> Response:
        body = await _json(request)
        try:
            self.state.faults.append(Fault(**body))
        except TypeError as exc:
            return error(400, f"bad fault: {exc}")
        return JSONResponse({"faults": len(self.state.faults)})

    async def add_post(self, request: Request) -> Response:
        body = await _json(request)
        try:
            post = self.state.add_post(Post(**body))
        except TypeError as exc:
            return error(400, f"bad post: {exc}")
        return JSONResponse(dataclasses.asdict(post), status_code=201)

    def routes(self) -> list[Route]:
        return [
            Route("/_emulator/state", self.show_state, methods=["GET"]),
            Route("/_emulator/faults", self.add_fault, methods=["POST"]),
            Route("/_emulator/posts", self.add_post, methods=["POST"]),
        ]


def create_app(state: EmulatorState) -> ASGIApp:
    """The emulator as an ASGI app over `state`."""
    routes = [_platform_route(state, row) for row in PLATFORM_ROUTES]
    routes += _Control(state).routes()
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

"""X's API v2 as the emulator serves it: OAuth 2.0 (PKCE, rotating refresh tokens), posts,
hidden replies, Direct Messages, mentions and search, as docs.x.com documents them."""

import base64
import hashlib
import html
import re
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from complaintflow.platforms.emulation import (
    X_CLIENT_ID,
    EmulatorState,
    Grant,
    Post,
    RouteRow,
    error,
    oauth_error,
    read_form,
    read_json,
    token_answer,
    x_problem,
)
from complaintflow.platforms.x.adapter import XSettings

X_LIMIT = 280
# https://docs.x.com/x-api/fundamentals/data-dictionary ("Default fields"): a post carries
# only id, text and edit_history_tweet_ids unless tweet.fields/expansions ask for more.
X_DEFAULT_FIELDS = ("id", "text", "edit_history_tweet_ids")


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


async def x_token(request: Request, state: EmulatorState) -> Response:
    """POST /2/oauth2/token (https://docs.x.com/fundamentals/authentication/oauth-2-0/
    user-access-token): grant_type authorization_code (code, redirect_uri, code_verifier,
    client_id) or refresh_token. Each refresh returns a new refresh token and the old one
    stops working; access tokens live two hours (expires_in 7200)."""
    form = await read_form(request)
    client_id = form.get("client_id", "")
    header = request.headers.get("authorization", "")
    if header.startswith("Basic "):  # confidential clients authenticate with Basic
        client_id = base64.b64decode(header[6:]).decode(errors="replace").split(":", 1)[0]
    if client_id != X_CLIENT_ID:
        return oauth_error("unauthorized_client", "Missing valid authorization header", 401)
    grant_type = form.get("grant_type", "")
    if grant_type == "authorization_code":
        asked = state.codes.pop(form.get("code", ""), None)
        if asked is None:
            return oauth_error(
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
            return oauth_error(
                "invalid_request", "Value passed for the authorization code was invalid."
            )
        offline = "offline.access" in asked["scope"].split()
        grant = state.issue("x", state.user_token_lifetime, refresh=offline)
        return token_answer(grant, asked["scope"], state.user_token_lifetime)
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
            return oauth_error("invalid_request", "Value passed for the token was invalid.")
        state.spent_refresh_tokens.add(given)
        state.refreshes += 1
        grant = state.issue("x", state.user_token_lifetime)
        return token_answer(
            grant,
            "tweet.read tweet.write users.read dm.read dm.write offline.access",
            state.user_token_lifetime,
        )
    return oauth_error("invalid_request", f"unsupported grant_type {grant_type!r}")


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
    body = await read_json(request)
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
    post.hidden = bool((await read_json(request)).get("hidden", True))
    return JSONResponse({"data": {"hidden": post.hidden}})


async def x_send_dm(request: Request, state: EmulatorState) -> Response:
    """POST /2/dm_conversations/with/:participant_id/messages (https://docs.x.com/x-api/
    direct-messages/create-dm-message-by-participant-id): {text}; 201 {data:
    {dm_conversation_id, dm_event_id}}."""
    participant = request.path_params["participant_id"]
    if not _x_id(participant):
        return x_problem(400, "Invalid Request", f"The `participant_id` {participant!r} is invalid")
    text = str((await read_json(request)).get("text", ""))
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


ROUTES: tuple[RouteRow, ...] = (
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
# The credentials each route takes (see emulation._refused); any other: the Graph token.
AUTHS: dict[str, str] = {
    "x.token": "none",
    "x.authorize": "none",
    "x.post_tweet": "x-user",
    "x.hide_reply": "x-user",
    "x.send_dm": "x-user",
    "x.list_dms": "x-user",
    "x.me": "x-user",
    "x.mentions": "x-read",
    "x.search": "x-read",
    "x.user_tweets": "x-read",
}


def settings(url: str, token: str) -> XSettings:
    """The adapter's settings for this emulator at `url`, `token` as its fixed secrets."""
    return XSettings(url=f"{url}/x", client_id=X_CLIENT_ID)

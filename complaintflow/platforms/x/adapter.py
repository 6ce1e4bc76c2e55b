"""The X adapter (API v2): replies, Direct Messages, hidden replies, and the mentions poll.

Writes use the brand's OAuth 2.0 user-context token (an app-only bearer is refused for
them), refreshed before it expires; reads use the app-only bearer when one is configured.
Before posting again after an unknown outcome, it looks for its own earlier reply or DM.
"""

from __future__ import annotations

import dataclasses
import os
import re
import unicodedata
from collections.abc import Callable
from typing import Any

import httpx

from complaintflow.errors import PlatformError
from complaintflow.platforms.credentials import AccessTokens, OAuthApp, TokenStore
from complaintflow.platforms.facts import BadId, checked_id
from complaintflow.platforms.http import (
    as_activity,
    may_have_run_before,
    send_bearer,
    with_token,
)
from complaintflow.platforms.settings import (
    AdapterPart,
    Endpoints,
    OAuthConnect,
    PlatformAdapter,
)
from complaintflow.rules.mention import Author, Mention
from complaintflow.workflows import registry as names
from complaintflow.workflows.messages import ActionRequest, ActionResult, PollRequest, PollResult

# https://docs.x.com/x-api/posts/user-mention-timeline-by-user-id: without these a post has
# only id, text and edit_history_tweet_ids (no author, no conversation).
MENTION_FIELDS = {
    "max_results": "100",
    "tweet.fields": (
        "author_id,conversation_id,created_at,public_metrics,in_reply_to_user_id,referenced_tweets"
    ),
    "expansions": "author_id",
    "user.fields": "username,name,public_metrics,verified",
}
MAX_PAGES = 20  # a poll reads at most this many pages (2,000 posts); the rest next time
# A retry looks through at most this many pages (1,000) of the brand's own newest posts for
# the reply an earlier attempt may have made: retries follow within minutes or hours.
OWN_POSTS_PAGES = 10
DM_PAGES = 5  # and through at most 500 events of the conversation for its DM


class XAdapter:
    """X API v2 for one brand account."""

    platforms: tuple[str, ...] = ("x",)

    def __init__(
        self,
        client: httpx.AsyncClient,
        url: str,
        *,
        user_tokens: AccessTokens | None,
        app_token: str = "",
    ) -> None:
        self.client = client
        self.url = url
        self.user_tokens = user_tokens
        self.app_token = app_token

    async def _call(self, method: str, path: str, *, user: bool = True, **kwargs: Any) -> Any:
        """One call; writes (and DMs) as the brand's user, reads with the app bearer if any.
        A user token refused with 401 is refreshed once and the call repeated."""
        if not user and self.app_token:
            return await self._send(method, path, self.app_token, **kwargs)
        if self.user_tokens is None:
            raise PlatformError(
                "X needs the brand's user-context token for this call: set "
                "COMPLAINTFLOW_X_CLIENT_ID and run `complaintflow connect x`",
                retryable=False,
            )
        return await with_token(
            self.user_tokens, lambda token: self._send(method, path, token, **kwargs)
        )

    async def _send(self, method: str, path: str, token: str, **kwargs: Any) -> Any:
        return await send_bearer(
            self.client, self.url, method, path, token, reason=reason, **kwargs
        )

    async def reply(self, request: ActionRequest) -> ActionResult:
        parent = _id(request.mention_id)
        if may_have_run_before() and (existing := await self._reply_already_made(request)):
            return ActionResult(existing, "already replied")
        body = await self._call(
            "POST",
            "/2/tweets",
            json={"text": request.text, "reply": {"in_reply_to_tweet_id": parent}},
        )
        return ActionResult(str(body["data"]["id"]))

    async def _reply_already_made(self, request: ActionRequest) -> str:
        """The id of the brand's own post that replies to the complaint with this text, or "".

        Read from the brand's own timeline (GET /2/users/:id/tweets), which has every post
        at once, not from recent search, whose index lags behind posting. A post is ours
        when its author is the brand, it replies to the complaint (referenced_tweets
        replied_to) and its text is ours as X keeps it (see same_post_text)."""
        parent = _id(request.mention_id)
        brand = await self._brand(request)
        params = {
            "max_results": "100",
            "exclude": "retweets",
            "tweet.fields": "author_id,referenced_tweets",
        }
        for _ in range(OWN_POSTS_PAGES):
            body = await self._call("GET", f"/2/users/{brand}/tweets", user=False, params=params)
            for tweet in body.get("data") or []:
                if (
                    isinstance(tweet, dict)
                    and str(tweet.get("author_id", "")) == brand
                    and _replied_to(tweet) == parent
                    and same_post_text(str(tweet.get("text", "")), request.text)
                ):
                    return str(tweet["id"])
            token = (body.get("meta") or {}).get("next_token")
            if not token:
                break
            params["pagination_token"] = str(token)
        return ""

    async def _brand(self, request: ActionRequest) -> str:
        """The brand's X user id: the policy's account, else who the user token is."""
        if request.account_id:
            return _id(request.account_id, "account id")
        me = await self._call("GET", "/2/users/me")
        return _id(str((me.get("data") or {}).get("id", "")), "account id")

    async def private_message(self, request: ActionRequest) -> ActionResult:
        participant = _id(request.author_id, "author id")
        path = f"/2/dm_conversations/with/{participant}"
        if may_have_run_before() and (sent := await self._dm_already_sent(request, path)):
            return ActionResult(sent, "already sent")
        body = await self._call("POST", path + "/messages", json={"text": request.text})
        return ActionResult(str(body["data"]["dm_event_id"]))

    async def conversation_message(self, request: ActionRequest) -> ActionResult:
        """A message in the DM conversation the customer started: the same call as the
        handoff's DM (POST /2/dm_conversations/with/:participant_id/messages,
        https://docs.x.com/x-api/direct-messages/create-dm-message-by-participant-id); X
        documents no reply window for it."""
        return await self.private_message(request)

    async def _dm_already_sent(self, request: ActionRequest, path: str) -> str:
        """The id of the brand's own message with this text in the conversation, or "": the
        customer's messages are in it too, so the sender must be the brand (sender_id comes
        only when asked for, https://docs.x.com/x-api/direct-messages/
        get-dm-events-for-a-dm-conversation)."""
        brand = await self._brand(request)
        params = {
            "max_results": "100",
            "event_types": "MessageCreate",
            "dm_event.fields": "id,text,sender_id,event_type",
        }
        for _ in range(DM_PAGES):
            body = await self._call("GET", path + "/dm_events", params=params)
            for event in body.get("data") or []:
                if (
                    isinstance(event, dict)
                    and str(event.get("sender_id", "")) == brand
                    and same_post_text(str(event.get("text", "")), request.text)
                ):
                    return str(event["id"])
            token = (body.get("meta") or {}).get("next_token")
            if not token:
                break
            params["pagination_token"] = str(token)
        return ""

    async def remove(self, request: ActionRequest) -> ActionResult:
        if request.action != "hide":
            raise PlatformError("X does not let a brand delete a customer's post", retryable=False)
        post = _id(request.mention_id)
        await self._call("PUT", f"/2/tweets/{post}/hidden", json={"hidden": True})
        return ActionResult(request.mention_id, "hidden")

    async def check(self) -> str:
        """One read-only call as the brand's user (GET /2/users/me): who the token is."""
        body = await self._call("GET", "/2/users/me")
        data = body.get("data") or {}
        return f"@{data.get('username', '?')} (id {data.get('id', '?')})"

    async def poll_mentions(self, request: PollRequest) -> PollResult:
        """The brand's mentions newer than the cursor, oldest first, every page of them;
        retweets are left out (a retweet repeats a post already seen)."""
        user = _id(request.user_id, "user id")
        params = dict(MENTION_FIELDS)
        if request.since_id:
            params["since_id"] = _id(request.since_id, "since_id")
        tweets: list[dict[str, Any]] = []
        users: dict[str, dict[str, Any]] = {}
        newest = ""
        for _ in range(MAX_PAGES):
            body = await self._call("GET", f"/2/users/{user}/mentions", user=False, params=params)
            meta = body.get("meta") or {}
            newest = newest or str(meta.get("newest_id") or "")
            tweets += [t for t in body.get("data") or [] if isinstance(t, dict) and "id" in t]
            for person in (body.get("includes") or {}).get("users") or []:
                if isinstance(person, dict) and "id" in person:
                    users[str(person["id"])] = person
            if not meta.get("next_token"):
                break
            params["pagination_token"] = str(meta["next_token"])
        mentions = tuple(
            _mention(t, users.get(str(t.get("author_id", "")), {}))
            for t in reversed(tweets)
            if not _is_retweet(t)
        )
        return PollResult(mentions, newest or request.since_id)


# What X does to a post's text (https://developer.x.com/en/docs/tweets/tweet-updates,
# https://developer.x.com/en/docs/tco, https://docs.x.com/x-api/fundamentals/data-dictionary):
# a reply starts with the @names X adds, &, < and > come back as &amp; &lt; &gt;, and every
# link (with or without a protocol) becomes a t.co link.
_LEADING_MENTION = re.compile(r"@\w{1,15}")
_ESCAPED = re.compile(r"&(amp|lt|gt);")
_UNESCAPED = {"amp": "&", "lt": "<", "gt": ">"}
# A word holding a link: a protocol, or a domain name not preceded by @ (an email address).
_LINK = re.compile(r"://|(?:^|[^\w@])(?:[a-z0-9-]+\.)+[a-z]{2,}(?:[^\w-]|$)", re.IGNORECASE)


def same_post_text(kept: str, sent: str) -> bool:
    """Whether `kept`, a post's text as X returns it, is `sent` as the brand posted it.

    Compared word by word after leaving out the leading @mentions on both sides, undoing
    X's escaping of &, < and > in `kept`, and taking every word holding a link as the same
    (X replaced it with a t.co link). `kept` is also taken as is, for texts X did not escape
    (Direct Messages)."""
    wanted = _words(sent)
    unescaped = _ESCAPED.sub(lambda found: _UNESCAPED[found.group(1)], kept)
    return _words(unescaped) == wanted or _words(kept) == wanted


def _words(text: str) -> tuple[str, ...]:
    words = unicodedata.normalize("NFC", text).split()
    start = 0
    while start < len(words) and _LEADING_MENTION.fullmatch(words[start]):
        start += 1
    return tuple("\x00link" if _LINK.search(word) else word for word in words[start:])


def _id(value: str, what: str = "post id") -> str:
    try:
        return checked_id("x", value, what)
    except BadId as exc:
        raise PlatformError(str(exc), retryable=False) from None


def _is_retweet(tweet: dict[str, Any]) -> bool:
    kinds = {r.get("type") for r in tweet.get("referenced_tweets") or [] if isinstance(r, dict)}
    return bool(kinds & {"retweeted", "quoted"})


def _replied_to(tweet: dict[str, Any]) -> str:
    for reference in tweet.get("referenced_tweets") or []:
        if isinstance(reference, dict) and reference.get("type") == "replied_to":
            return str(reference.get("id", ""))
    return ""


def _mention(tweet: dict[str, Any], user: dict[str, Any]) -> Mention:
    metrics = tweet.get("public_metrics") or {}
    followers = (user.get("public_metrics") or {}).get("followers_count", 0)
    return Mention(
        id=str(tweet["id"]),
        text=str(tweet.get("text", "")),
        platform="x",
        kind="reply" if tweet.get("in_reply_to_user_id") else "post",
        # Keyed like a webhook delivery (whose v1.1 payload has no conversation id): a
        # reply's thread is the post it answers, a post starts its own.
        thread_id=_replied_to(tweet) or str(tweet["id"]),
        created_at=str(tweet.get("created_at", "")),
        author=Author(
            id=str(tweet.get("author_id", "")),
            handle=str(user.get("username", "")),
            name=str(user.get("name", "")),
            followers=followers if isinstance(followers, int) else 0,
            verified=user.get("verified") is True,
        ),
        reshares=int(metrics.get("retweet_count", 0)),
        replies=int(metrics.get("reply_count", 0)),
        likes=int(metrics.get("like_count", 0)),
        addressed=True,
    )


def reason(response: httpx.Response) -> str:
    """X's own words: a problem's detail/title, or v1.1-style errors[0].message."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message", "") or errors[0].get("detail", ""))
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("message", ""))
    return str(body.get("detail", "") or body.get("title", ""))


@dataclasses.dataclass(frozen=True)
class XSettings:
    """Where X's API is and the brand's app credentials (user tokens live in the store)."""

    url: str = "https://api.x.com"
    token: str = ""  # the app-only bearer: reads only
    client_id: str = ""
    client_secret: str = ""  # confidential clients only
    token_url: str = ""  # default: url + /2/oauth2/token
    authorize_url: str = "https://x.com/i/oauth2/authorize"

    @classmethod
    def from_environment(cls) -> XSettings:
        """COMPLAINTFLOW_X_API_URL, COMPLAINTFLOW_X_TOKEN (app-only bearer),
        COMPLAINTFLOW_X_CLIENT_ID/_SECRET, COMPLAINTFLOW_X_TOKEN_URL/_AUTHORIZE_URL."""
        env = os.environ
        return cls(
            url=env.get("COMPLAINTFLOW_X_API_URL", cls.url),
            token=env.get("COMPLAINTFLOW_X_TOKEN", ""),
            client_id=env.get("COMPLAINTFLOW_X_CLIENT_ID", ""),
            client_secret=env.get("COMPLAINTFLOW_X_CLIENT_SECRET", ""),
            token_url=env.get("COMPLAINTFLOW_X_TOKEN_URL", ""),
            authorize_url=env.get("COMPLAINTFLOW_X_AUTHORIZE_URL", cls.authorize_url),
        )

    def oauth_app(self) -> OAuthApp | None:
        if not self.client_id:
            return None
        return OAuthApp(
            "x", self.token_url or f"{self.url}/2/oauth2/token", self.client_id, self.client_secret
        )


def _settings(endpoints: Endpoints) -> XSettings:
    return endpoints.of("x", XSettings)


def _build(endpoints: Endpoints, client: httpx.AsyncClient, store: TokenStore | None) -> XAdapter:
    settings = _settings(endpoints)
    app = settings.oauth_app()
    return XAdapter(
        client,
        settings.url,
        user_tokens=AccessTokens(app, store) if app and store else None,
        app_token=settings.token,
    )


def _missing(endpoints: Endpoints) -> list[str]:
    return [] if _settings(endpoints).client_id else ["COMPLAINTFLOW_X_CLIENT_ID"]


def _background(adapter: PlatformAdapter) -> list[Callable[..., Any]]:
    """The mentions poll, for the MentionPoller workflow."""
    assert isinstance(adapter, XAdapter)
    return [as_activity(names.POLL_X_MENTIONS, adapter.poll_mentions)]


async def _check(adapter: PlatformAdapter) -> str:
    assert isinstance(adapter, XAdapter)
    return await adapter.check()


ADAPTER = AdapterPart(
    "x",
    XSettings,
    _build,
    oauth=lambda e: _settings(e).oauth_app(),
    missing=_missing,
    background=_background,
    label="x",
    unconfigured=lambda e: "" if _settings(e).client_id else "COMPLAINTFLOW_X_CLIENT_ID",
    check=_check,
    connect=OAuthConnect(
        "X",
        authorize_url=lambda e: _settings(e).authorize_url,
        unconfigured=(
            "set COMPLAINTFLOW_X_CLIENT_ID (and COMPLAINTFLOW_X_CLIENT_SECRET for a confidential "
            "client) from the X developer portal's OAuth 2.0 settings"
        ),
    ),
)

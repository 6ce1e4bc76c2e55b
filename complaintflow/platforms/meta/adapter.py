"""The Meta adapter (Graph API): Facebook Page and Instagram comments, private replies, hiding
and deleting, with the long-lived Page access token.

Graph reports throttling inside HTTP 400 bodies (codes 4, 17, 32, 613, 80001-80014): those
are retried after a wait; an object already gone is code 100 subcode 33, not a 404.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from complaintflow.errors import PlatformError
from complaintflow.platforms.credentials import TokenStore
from complaintflow.platforms.facts import BadId, checked_id
from complaintflow.platforms.http import may_have_run_before, send_bearer
from complaintflow.platforms.settings import AdapterPart, Endpoints, PlatformAdapter
from complaintflow.workflows.messages import ActionRequest, ActionResult

# https://developers.facebook.com/docs/graph-api/overview/rate-limiting/ (throttling codes)
THROTTLING_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015)})
THROTTLED_WAIT = 60.0  # seconds, when Graph does not say how long
GONE = (100, 33)  # https://developers.facebook.com/docs/graph-api/guides/error-handling


class MetaAdapter:
    """Facebook Pages and Instagram (with Facebook Login) through one Page token."""

    platforms: tuple[str, ...] = ("facebook", "instagram")

    def __init__(
        self, client: httpx.AsyncClient, url: str, *, token: str, page_id: str = ""
    ) -> None:
        self.client = client
        self.url = url
        self.token = token
        self.page_id = page_id

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return await send_bearer(
            self.client, self.url, method, path, self.token, failure=failure, **kwargs
        )

    async def reply(self, request: ActionRequest) -> ActionResult:
        comment = _id(request.platform, request.mention_id)
        instagram = request.platform == "instagram"
        if instagram and request.thread_id:
            # Instagram files a reply to a reply under the top-level comment ("You can only
            # reply to top-level comments; replies to a reply will be added to the top-level
            # comment", https://developers.facebook.com/docs/instagram-platform/
            # instagram-graph-api/reference/ig-comment/replies): the complaint's thread. The
            # reply is made and looked for there, where it lands.
            comment = _id(request.platform, request.thread_id)
        # Facebook: POST /{object-id}/comments; Instagram: POST /{ig-comment-id}/replies.
        edge = "replies" if instagram else "comments"
        if may_have_run_before():
            text_field = "text" if instagram else "message"  # Instagram comments carry `text`
            params = {"fields": f"id,{text_field},from", "limit": "100"}
            if not instagram:  # the brand's reply is among the newest
                params["order"] = "reverse_chronological"
            listing = await self._call("GET", f"/{comment}/{edge}", params=params)
            for found in listing.get("data", []):
                if (
                    found.get(text_field) == request.text
                    and (found.get("from") or {}).get("id") == request.account_id
                ):
                    return ActionResult(str(found["id"]), "already replied")
        body = await self._call("POST", f"/{comment}/{edge}", json={"message": request.text})
        return ActionResult(str(body["id"]))

    async def private_message(self, request: ActionRequest) -> ActionResult:
        """A private reply to the comment, sent as the Page: POST /{PAGE-ID}/messages with
        recipient.comment_id, for Facebook and Instagram comments alike
        (https://developers.facebook.com/docs/messenger-platform/discovery/private-replies/)."""
        comment = _id(request.platform, request.mention_id)
        page = await self.page()
        try:
            body = await self._call(
                "POST",
                f"/{page}/messages",
                json={"recipient": {"comment_id": comment}, "message": {"text": request.text}},
            )
        except PlatformError as exc:
            if "already replied" in str(exc):  # the one private reply was made
                return ActionResult("", "already sent")
            raise
        # The answer names the commenter as Messenger / Instagram Direct will: {recipient_id
        # (their PSID / IGSID), message_id} (private-replies page, "Send a Private Reply").
        recipient = str(body.get("recipient_id", ""))
        return ActionResult(
            str(body.get("message_id", "")),
            recipient=recipient if MESSAGING_ID.fullmatch(recipient) else "",
        )

    async def conversation_message(self, request: ActionRequest) -> ActionResult:
        """A message in the conversation the customer started with the Page (Messenger) or
        the Instagram account, through the Send API: POST /{PAGE-ID}/messages with
        recipient.id (their PSID / IGSID) and a messaging_type the window allows
        (https://developers.facebook.com/docs/messenger-platform/reference/send-api/):
        RESPONSE within 24 hours of their last message; after that MESSAGE_TAG with the
        HUMAN_AGENT tag, "within 7 days after a user message"
        (https://developers.facebook.com/docs/messenger-platform/send-messages/message-tags);
        older than that, nothing may be sent, and the step is refused with the reason (the
        case escalates it to a person, who must reach the customer another way)."""
        user = request.author_id
        if not MESSAGING_ID.fullmatch(user):
            raise PlatformError(f"{user[:40]!r} is not a PSID / IGSID", retryable=False)
        window = messaging_window(request.customer_wrote_at, datetime.now(UTC))
        page = await self.page()
        body: dict[str, Any] = {"recipient": {"id": user}, "message": {"text": request.text}}
        if window == "closed":
            raise PlatformError(
                f"the customer last wrote on {request.customer_wrote_at or 'an unknown date'}: "
                "Messenger and Instagram allow an answer within 24 hours of their last message, "
                "or by a person (the HUMAN_AGENT tag) within 7 days; reach them another way",
                retryable=False,
            )
        body["messaging_type"] = window
        if window == "MESSAGE_TAG":
            body["tag"] = "HUMAN_AGENT"
        if may_have_run_before() and (sent := await self._already_said(page, request)):
            return ActionResult(sent, "already sent", recipient=user)
        answer = await self._call("POST", f"/{page}/messages", json=body)
        return ActionResult(str(answer.get("message_id", "")), recipient=user)

    async def _already_said(self, page: str, request: ActionRequest) -> str:
        """The id of the brand's own message with this text in its conversation with the
        customer, or "": the Send API has no idempotency key, so a retry after an unknown
        outcome looks first, through the Conversations API (GET /{PAGE-ID}/conversations
        ?platform=&user_id=, then the conversation's `messages` with `message` and `from`,
        https://developers.facebook.com/docs/messenger-platform/conversations)."""
        platform = "instagram" if request.platform == "instagram" else "messenger"
        found = await self._call(
            "GET",
            f"/{page}/conversations",
            params={"platform": platform, "user_id": request.author_id},
        )
        brand = {page, request.account_id} - {""}
        for conversation in (found.get("data") or [])[:1]:
            conversation_id = str((conversation or {}).get("id", ""))
            if not CONVERSATION_ID.fullmatch(conversation_id):
                return ""
            thread = await self._call(
                "GET", f"/{conversation_id}", params={"fields": "messages{message,from}"}
            )
            for message in (thread.get("messages") or {}).get("data") or []:
                if (
                    isinstance(message, dict)
                    and message.get("message") == request.text
                    and str((message.get("from") or {}).get("id", "")) in brand
                ):
                    return str(message.get("id", ""))
        return ""

    async def page(self) -> str:
        """The Page the token belongs to (configured, or GET /me with the Page token)."""
        if not self.page_id:
            me = await self._call("GET", "/me", params={"fields": "id,name"})
            self.page_id = checked_id("facebook", str(me.get("id", "")), "page id")
        return self.page_id

    async def remove(self, request: ActionRequest) -> ActionResult:
        comment = _id(request.platform, request.mention_id)
        if request.action == "delete":
            try:
                await self._call("DELETE", f"/{comment}")
            except PlatformError as exc:
                if isinstance(exc, GraphError) and exc.graph_code == GONE:  # gone already
                    return ActionResult(request.mention_id, "already deleted")
                raise
            return ActionResult(request.mention_id, "deleted")
        # Facebook comments take is_hidden, Instagram comments hide.
        flag = "is_hidden" if request.platform == "facebook" else "hide"
        await self._call("POST", f"/{comment}", json={flag: True})
        return ActionResult(request.mention_id, "hidden")

    async def check(self) -> str:
        """One read-only call (GET /me with the Page token): which Page it is."""
        me = await self._call("GET", "/me", params={"fields": "id,name"})
        return f"{me.get('name', '?')} (page {me.get('id', '?')})"


# A PSID or IGSID: digits (https://developers.facebook.com/docs/messenger-platform/
# identity/user-profile; Instagram's IGSIDs likewise).
MESSAGING_ID = re.compile(r"[0-9]{1,40}")
# A conversation id as the Conversations API gives it (e.g. "t_10161", "aWdfZ..."): kept
# within what a URL path segment may safely hold before it is put in one.
CONVERSATION_ID = re.compile(r"[A-Za-z0-9_=-]{1,200}")
STANDARD_WINDOW = timedelta(hours=24)  # RESPONSE (send-api reference, "Before You Start")
HUMAN_AGENT_WINDOW = timedelta(days=7)  # the HUMAN_AGENT tag (message-tags page)


def messaging_window(customer_wrote_at: str, now: datetime) -> str:
    """What may be sent to a customer who last wrote at `customer_wrote_at` (ISO 8601):
    "RESPONSE" inside 24 hours, "MESSAGE_TAG" (HUMAN_AGENT) inside 7 days, else "closed".
    An unknown time is taken as "closed" only if it cannot be read; "" means the customer
    just wrote (the case was opened by their message), so RESPONSE."""
    if not customer_wrote_at:
        return "RESPONSE"
    try:
        wrote = datetime.fromisoformat(customer_wrote_at.replace("Z", "+00:00"))
    except ValueError:
        return "closed"
    if wrote.tzinfo is None:
        wrote = wrote.replace(tzinfo=UTC)
    age = now - wrote
    if age <= STANDARD_WINDOW:
        return "RESPONSE"
    if age <= HUMAN_AGENT_WINDOW:
        return "MESSAGE_TAG"
    return "closed"


def _id(platform: str, value: str) -> str:
    try:
        return checked_id(platform, value, "comment id")
    except BadId as exc:
        raise PlatformError(str(exc), retryable=False) from None


class GraphError(PlatformError):
    """A Graph error answer, with its code and subcode."""

    graph_code: tuple[int, int]


def failure(what: str, response: httpx.Response) -> PlatformError:
    """Classify a Graph error: throttling codes retry after a wait (from the
    X-Business-Use-Case-Usage header when present), 5xx retry, the rest do not."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    code = error.get("code") if isinstance(error.get("code"), int) else 0
    subcode = error.get("error_subcode") if isinstance(error.get("error_subcode"), int) else 0
    message = str(error.get("message", "")) or response.text[:300]
    status = response.status_code
    throttled = code in THROTTLING_CODES or status == 429
    exc = GraphError(
        f"{what}: {status} {message}".strip(),
        status=status,
        retryable=throttled or status >= 500,
        retry_after=_wait(response) if throttled else None,
    )
    exc.graph_code = (int(code or 0), int(subcode or 0))
    return exc


def _wait(response: httpx.Response) -> float:
    """Seconds to wait: estimated_time_to_regain_access (minutes) in the usage header
    (https://developers.facebook.com/docs/graph-api/overview/rate-limiting/), else a minute."""
    header = response.headers.get("x-business-use-case-usage", "")
    try:
        usage = json.loads(header) if header else {}
        minutes = [
            float(entry.get("estimated_time_to_regain_access", 0))
            for entries in usage.values()
            for entry in entries
        ]
    except (ValueError, AttributeError, TypeError):
        minutes = []
    return max([m * 60 for m in minutes if m > 0], default=THROTTLED_WAIT)


# Graph API versions expire two years after release
# (https://developers.facebook.com/docs/graph-api/changelog/versions): keep this current.
GRAPH_API_VERSION = "v24.0"


@dataclasses.dataclass(frozen=True)
class MetaSettings:
    """Where the Graph API is and the brand's long-lived Page access token."""

    url: str = f"https://graph.facebook.com/{GRAPH_API_VERSION}"
    token: str = ""  # long-lived Page access token
    instagram_page_id: str = ""  # the Page linked to the Instagram account (default: /me)

    @classmethod
    def from_environment(cls) -> MetaSettings:
        """COMPLAINTFLOW_GRAPH_API_URL (or _GRAPH_API_VERSION), COMPLAINTFLOW_GRAPH_TOKEN,
        COMPLAINTFLOW_INSTAGRAM_PAGE_ID."""
        env = os.environ
        version = env.get("COMPLAINTFLOW_GRAPH_API_VERSION", GRAPH_API_VERSION)
        return cls(
            url=env.get("COMPLAINTFLOW_GRAPH_API_URL", f"https://graph.facebook.com/{version}"),
            token=env.get("COMPLAINTFLOW_GRAPH_TOKEN", ""),
            instagram_page_id=env.get("COMPLAINTFLOW_INSTAGRAM_PAGE_ID", ""),
        )


def _settings(endpoints: Endpoints) -> MetaSettings:
    return endpoints.of("meta", MetaSettings)


def _build(
    endpoints: Endpoints, client: httpx.AsyncClient, _store: TokenStore | None
) -> MetaAdapter:
    settings = _settings(endpoints)
    return MetaAdapter(
        client, settings.url, token=settings.token, page_id=settings.instagram_page_id
    )


def _missing(endpoints: Endpoints) -> list[str]:
    return [] if _settings(endpoints).token else ["COMPLAINTFLOW_GRAPH_TOKEN"]


async def _check(adapter: PlatformAdapter) -> str:
    assert isinstance(adapter, MetaAdapter)
    return await adapter.check()


ADAPTER = AdapterPart(
    "meta",
    MetaSettings,
    _build,
    missing=_missing,
    label="facebook/instagram",
    unconfigured=lambda e: "" if _settings(e).token else "COMPLAINTFLOW_GRAPH_TOKEN",
    check=_check,
)

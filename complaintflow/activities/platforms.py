"""Platform adapters: X API v2 and the Facebook/Instagram Graph API, over one httpx client.

Every outbound post is exactly once from the customer's point of view. A retry may follow an
attempt whose outcome is unknown (the platform committed, then the connection dropped), so
before posting again an adapter looks for what it may already have done: the brand's reply
with the same text in the thread, the private message already sent (Facebook refuses a second
private reply to a comment, which is taken as done), the post already hidden or deleted.

Errors are classified: 429 and 5xx retry (honouring Retry-After), timeouts and dropped
connections retry, 400/401/403/404 stop with the platform's message kept.
"""

import dataclasses
import os
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from complaintflow.activities.base import TIMEOUT, Action, as_activity, may_have_run_before, send
from complaintflow.errors import PlatformError
from complaintflow.rules.mention import Author, Mention
from complaintflow.workflows import registry
from complaintflow.workflows.messages import ActionRequest, ActionResult, PollRequest, PollResult


@dataclasses.dataclass(frozen=True)
class Endpoints:
    """Where each platform's API is, and the tokens to call it (from the environment)."""

    x_url: str = "https://api.x.com"
    x_token: str = ""
    graph_url: str = "https://graph.facebook.com/v21.0"
    graph_token: str = ""
    gbp_url: str = "https://mybusiness.googleapis.com"
    gbp_token: str = ""

    @classmethod
    def from_environment(cls) -> "Endpoints":
        """COMPLAINTFLOW_{X,GRAPH,GBP}_API_URL and COMPLAINTFLOW_{X,GRAPH,GBP}_TOKEN."""
        env = os.environ
        return cls(
            x_url=env.get("COMPLAINTFLOW_X_API_URL", cls.x_url),
            x_token=env.get("COMPLAINTFLOW_X_TOKEN", ""),
            graph_url=env.get("COMPLAINTFLOW_GRAPH_API_URL", cls.graph_url),
            graph_token=env.get("COMPLAINTFLOW_GRAPH_TOKEN", ""),
            gbp_url=env.get("COMPLAINTFLOW_GBP_API_URL", cls.gbp_url),
            gbp_token=env.get("COMPLAINTFLOW_GBP_TOKEN", ""),
        )


class Platforms:
    """The adapters for one process (one HTTP client, connection pooling, timeouts set)."""

    def __init__(self, endpoints: Endpoints, *, client: httpx.AsyncClient | None = None) -> None:
        self.endpoints = endpoints
        self.client = client or httpx.AsyncClient(timeout=TIMEOUT)

    # -- plumbing ----------------------------------------------------------------------------
    async def _call(
        self,
        method: str,
        url: str,
        token: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> Any:
        return await send(
            self.client,
            method,
            url,
            reason=_reason,
            json=json,
            params=params,
            headers={"Authorization": f"Bearer {token}"},
        )

    def _x(self, method: str, path: str, **kwargs: Any) -> Awaitable[Any]:
        return self._call(method, self.endpoints.x_url + path, self.endpoints.x_token, **kwargs)

    def _graph(self, method: str, path: str, **kwargs: Any) -> Awaitable[Any]:
        return self._call(
            method, self.endpoints.graph_url + path, self.endpoints.graph_token, **kwargs
        )

    # -- actions -----------------------------------------------------------------------------
    async def reply(self, request: ActionRequest) -> ActionResult:
        """Answer publicly in the complaint's thread, on its own platform."""
        if request.platform == "x":
            if may_have_run_before() and (existing := await self._x_reply_already_made(request)):
                return ActionResult(existing, "already replied")
            body = await self._x(
                "POST",
                "/2/tweets",
                json={"text": request.text, "reply": {"in_reply_to_tweet_id": request.mention_id}},
            )
            return ActionResult(str(body["data"]["id"]))
        if request.platform in ("facebook", "instagram"):
            edge = "comments" if request.platform == "facebook" else "replies"
            if may_have_run_before():
                listing = await self._graph("GET", f"/{request.mention_id}/{edge}")
                for comment in listing.get("data", []):
                    if (
                        comment.get("message") == request.text
                        and comment.get("from", {}).get("id") == request.account_id
                    ):
                        return ActionResult(str(comment["id"]), "already replied")
            body = await self._graph(
                "POST", f"/{request.mention_id}/{edge}", json={"message": request.text}
            )
            return ActionResult(str(body["id"]))
        if request.platform == "google_business":
            # A review has one reply; PUT replaces it, so a retry cannot make a second one.
            await self._call(
                "PUT",
                f"{self.endpoints.gbp_url}/v4/{request.mention_id}/reply",
                self.endpoints.gbp_token,
                json={"comment": request.text},
            )
            return ActionResult(f"{request.mention_id}/reply")
        raise PlatformError(
            f"replying on {request.platform} is not supported here", retryable=False
        )

    async def private_message(self, request: ActionRequest) -> ActionResult:
        """Move the conversation offline: one private message to the author."""
        if request.platform == "x":
            path = f"/2/dm_conversations/with/{request.author_id}"
            if may_have_run_before():
                sent = await self._x("GET", path + "/dm_events")
                for event in sent.get("data", []):
                    if event.get("text") == request.text:
                        return ActionResult(str(event["id"]), "already sent")
            body = await self._x("POST", path + "/messages", json={"text": request.text})
            return ActionResult(str(body["data"]["dm_event_id"]))
        if request.platform in ("facebook", "instagram"):
            try:
                body = await self._graph(
                    "POST",
                    f"/{request.account_id}/messages",
                    json={
                        "recipient": {"comment_id": request.mention_id},
                        "message": {"text": request.text},
                    },
                )
            except PlatformError as exc:
                if "already replied" in str(exc):  # the one private reply was made
                    return ActionResult("", "already sent")
                raise
            return ActionResult(str(body.get("message_id", "")))
        raise PlatformError(
            f"private messages on {request.platform} are not supported here", retryable=False
        )

    async def remove(self, request: ActionRequest) -> ActionResult:
        """Hide or delete the public complaint (the workflow checked ownership first)."""
        if request.platform == "x":
            if request.action != "hide":
                raise PlatformError(
                    "X does not let a brand delete a customer's post", retryable=False
                )
            await self._x("PUT", f"/2/tweets/{request.mention_id}/hidden", json={"hidden": True})
            return ActionResult(request.mention_id, "hidden")
        if request.platform in ("facebook", "instagram"):
            if request.action == "delete":
                try:
                    await self._graph("DELETE", f"/{request.mention_id}")
                except PlatformError as exc:
                    if exc.status == 404:  # deleted by an earlier attempt
                        return ActionResult(request.mention_id, "already deleted")
                    raise
                return ActionResult(request.mention_id, "deleted")
            flag = "is_hidden" if request.platform == "facebook" else "hide"
            await self._graph("POST", f"/{request.mention_id}", json={flag: True})
            return ActionResult(request.mention_id, "hidden")
        raise PlatformError(f"removal on {request.platform} is not supported", retryable=False)

    async def _x_reply_already_made(self, request: ActionRequest) -> str:
        query = f"conversation_id:{request.thread_id} from:{request.account_id}"
        found = await self._x("GET", "/2/tweets/search/recent", params={"query": query})
        for tweet in found.get("data", []):
            if tweet.get("text") == request.text:
                return str(tweet["id"])
        return ""

    async def poll_x_mentions(self, request: PollRequest) -> PollResult:
        """The brand's X mentions newer than the cursor, oldest first."""
        params = {
            "max_results": "100",
            "tweet.fields": "conversation_id,created_at,public_metrics,in_reply_to_user_id",
        }
        if request.since_id:
            params["since_id"] = request.since_id
        body = await self._x("GET", f"/2/users/{request.user_id}/mentions", params=params)
        tweets = body.get("data") or []
        mentions = tuple(
            Mention(
                id=str(t["id"]),
                text=str(t.get("text", "")),
                platform="x",
                thread_id=str(t.get("conversation_id") or t["id"]),
                created_at=str(t.get("created_at", "")),
                author=Author(id=str(t.get("author_id", ""))),
                reshares=int(t.get("public_metrics", {}).get("retweet_count", 0)),
                replies=int(t.get("public_metrics", {}).get("reply_count", 0)),
                likes=int(t.get("public_metrics", {}).get("like_count", 0)),
                addressed=True,
            )
            for t in reversed(tweets)
            if isinstance(t, dict) and "id" in t
        )
        newest = str(body.get("meta", {}).get("newest_id") or request.since_id)
        return PollResult(mentions, newest)

    def activities(self) -> list[Action]:
        """Activities for the platform actions, under the registry's names."""
        return [
            as_activity(registry.POST_REPLY, self.reply),
            as_activity(registry.SEND_PRIVATE_MESSAGE, self.private_message),
            as_activity(registry.REMOVE_POST, self.remove),
        ]

    def poller_activities(self) -> list[Callable[[PollRequest], Awaitable[PollResult]]]:
        """The X mentions poll, for the MentionPoller workflow."""
        return [as_activity(registry.POLL_X_MENTIONS, self.poll_x_mentions)]


def _reason(response: httpx.Response) -> str:
    """The platform's own words from an error answer (X's detail/title, Graph's message)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("message", ""))
    return str(body.get("detail", "") or body.get("title", ""))

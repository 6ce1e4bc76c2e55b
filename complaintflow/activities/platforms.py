"""Platform adapters behind one protocol, and where their endpoints and credentials come from.

Every outbound post is exactly once from the customer's point of view. A retry may follow an
attempt whose outcome is unknown (the platform committed, then the connection dropped), so
before posting again an adapter looks for what it may already have done, as the platform
keeps it: the brand's own reply in the thread (X adds leading @mentions, escapes &<> and
shortens links; Instagram files replies under the top-level comment), the private message
the brand sent (Facebook refuses a second private reply to a comment, which is taken as
done), the post already hidden or deleted.

Errors are classified: 429 and 5xx retry (honouring Retry-After / x-rate-limit-reset), Graph
throttling codes retry, timeouts and dropped connections retry, other 4xx stop with the
platform's message kept. One adapter module per platform: x.py, meta.py, google.py.
"""

import dataclasses
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

import httpx

from complaintflow.activities.base import TIMEOUT, Action, as_activity
from complaintflow.activities.credentials import AccessTokens, OAuthApp, Tokens, TokenStore
from complaintflow.activities.google import GoogleBusinessAdapter
from complaintflow.activities.meta import MetaAdapter
from complaintflow.activities.x import XAdapter
from complaintflow.errors import PlatformError
from complaintflow.workflows import registry
from complaintflow.workflows.messages import ActionRequest, ActionResult, PollRequest, PollResult

# Graph API versions expire two years after release
# (https://developers.facebook.com/docs/graph-api/changelog/versions): keep this current.
GRAPH_API_VERSION = "v24.0"


class PlatformAdapter(Protocol):
    """What every platform's adapter does (a step it cannot do raises a non-retryable
    PlatformError saying so)."""

    platforms: tuple[str, ...]

    async def reply(self, request: ActionRequest) -> ActionResult: ...

    async def private_message(self, request: ActionRequest) -> ActionResult: ...

    async def remove(self, request: ActionRequest) -> ActionResult: ...


@dataclasses.dataclass(frozen=True)
class Endpoints:
    """Where each platform's API is, and the credentials to call it (from the environment).

    Tokens that expire (X user context, Google) live in the token store, never here."""

    x_url: str = "https://api.x.com"
    x_token: str = ""  # X app-only bearer: reads only
    x_client_id: str = ""
    x_client_secret: str = ""  # confidential clients only
    x_token_url: str = ""  # default: x_url + /2/oauth2/token
    x_authorize_url: str = "https://x.com/i/oauth2/authorize"
    graph_url: str = f"https://graph.facebook.com/{GRAPH_API_VERSION}"
    graph_token: str = ""  # long-lived Page access token
    instagram_page_id: str = ""  # the Page linked to the Instagram account (default: /me)
    gbp_url: str = "https://mybusiness.googleapis.com"
    gbp_client_id: str = ""
    gbp_client_secret: str = ""
    gbp_refresh_token: str = ""
    google_token_url: str = "https://oauth2.googleapis.com/token"
    token_store: Path = Path(".complaintflow/tokens.sqlite3")

    @classmethod
    def from_environment(cls) -> "Endpoints":
        """COMPLAINTFLOW_{X,GRAPH,GBP}_API_URL, COMPLAINTFLOW_X_TOKEN (app-only bearer),
        COMPLAINTFLOW_X_CLIENT_ID/_SECRET, COMPLAINTFLOW_GRAPH_TOKEN,
        COMPLAINTFLOW_GRAPH_API_VERSION, COMPLAINTFLOW_INSTAGRAM_PAGE_ID,
        COMPLAINTFLOW_GBP_CLIENT_ID/_SECRET/_REFRESH_TOKEN, COMPLAINTFLOW_TOKEN_STORE."""
        env = os.environ
        version = env.get("COMPLAINTFLOW_GRAPH_API_VERSION", GRAPH_API_VERSION)
        return cls(
            x_url=env.get("COMPLAINTFLOW_X_API_URL", cls.x_url),
            x_token=env.get("COMPLAINTFLOW_X_TOKEN", ""),
            x_client_id=env.get("COMPLAINTFLOW_X_CLIENT_ID", ""),
            x_client_secret=env.get("COMPLAINTFLOW_X_CLIENT_SECRET", ""),
            x_token_url=env.get("COMPLAINTFLOW_X_TOKEN_URL", ""),
            x_authorize_url=env.get("COMPLAINTFLOW_X_AUTHORIZE_URL", cls.x_authorize_url),
            graph_url=env.get(
                "COMPLAINTFLOW_GRAPH_API_URL", f"https://graph.facebook.com/{version}"
            ),
            graph_token=env.get("COMPLAINTFLOW_GRAPH_TOKEN", ""),
            instagram_page_id=env.get("COMPLAINTFLOW_INSTAGRAM_PAGE_ID", ""),
            gbp_url=env.get("COMPLAINTFLOW_GBP_API_URL", cls.gbp_url),
            gbp_client_id=env.get("COMPLAINTFLOW_GBP_CLIENT_ID", ""),
            gbp_client_secret=env.get("COMPLAINTFLOW_GBP_CLIENT_SECRET", ""),
            gbp_refresh_token=env.get("COMPLAINTFLOW_GBP_REFRESH_TOKEN", ""),
            google_token_url=env.get("COMPLAINTFLOW_GOOGLE_TOKEN_URL", cls.google_token_url),
            token_store=Path(env.get("COMPLAINTFLOW_TOKEN_STORE", ".complaintflow/tokens.sqlite3")),
        )

    def x_app(self) -> OAuthApp | None:
        if not self.x_client_id:
            return None
        return OAuthApp(
            "x",
            self.x_token_url or f"{self.x_url}/2/oauth2/token",
            self.x_client_id,
            self.x_client_secret,
        )

    def google_app(self) -> OAuthApp | None:
        if not (self.gbp_client_id and self.gbp_refresh_token):
            return None
        return OAuthApp(
            "google",
            self.google_token_url,
            self.gbp_client_id,
            self.gbp_client_secret,
            secret_in_form=True,
        )


class Platforms:
    """The adapters for one process (one HTTP client, connection pooling, timeouts set)."""

    def __init__(
        self,
        endpoints: Endpoints,
        *,
        client: httpx.AsyncClient | None = None,
        store: TokenStore | None = None,
    ) -> None:
        self.endpoints = endpoints
        self.client = client or httpx.AsyncClient(timeout=TIMEOUT)
        x_app, google_app = endpoints.x_app(), endpoints.google_app()
        if store is None and (x_app or google_app):
            store = TokenStore(endpoints.token_store)
        self.store = store
        if google_app is not None and store is not None:
            seed_google(store, endpoints.gbp_refresh_token)
        self.x = XAdapter(
            self.client,
            endpoints.x_url,
            user_tokens=AccessTokens(x_app, store) if x_app and store else None,
            app_token=endpoints.x_token,
        )
        self.meta = MetaAdapter(
            self.client,
            endpoints.graph_url,
            token=endpoints.graph_token,
            page_id=endpoints.instagram_page_id,
        )
        self.google = GoogleBusinessAdapter(
            self.client,
            endpoints.gbp_url,
            tokens=AccessTokens(google_app, store) if google_app and store else None,
        )
        adapters: tuple[PlatformAdapter, ...] = (self.x, self.meta, self.google)
        self.adapters = {name: a for a in adapters for name in a.platforms}

    def _for(self, request: ActionRequest, what: str) -> PlatformAdapter:
        adapter = self.adapters.get(request.platform)
        if adapter is None:
            raise PlatformError(f"{what} on {request.platform} is not supported", retryable=False)
        return adapter

    async def reply(self, request: ActionRequest) -> ActionResult:
        """Answer publicly in the complaint's thread, on its own platform."""
        return await self._for(request, "replying").reply(request)

    async def private_message(self, request: ActionRequest) -> ActionResult:
        """Move the conversation offline: one private message to the author."""
        return await self._for(request, "private messages").private_message(request)

    async def remove(self, request: ActionRequest) -> ActionResult:
        """Hide or delete the public complaint (the workflow checked ownership first)."""
        return await self._for(request, "removal").remove(request)

    async def poll_x_mentions(self, request: PollRequest) -> PollResult:
        """The brand's X mentions newer than the cursor, oldest first."""
        return await self.x.poll_mentions(request)

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


def seed_google(store: TokenStore, refresh_token: str) -> None:
    """Put the configured Google refresh token in the store (Google's do not rotate), keeping
    a stored access token that belongs to the same refresh token."""
    stored = store.load("google")
    if stored is None or stored.refresh_token != refresh_token:
        store.save("google", Tokens("", refresh_token, 0.0))

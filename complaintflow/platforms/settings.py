"""What the platform adapters share: the protocol every adapter keeps, the settings they are
built from (endpoints and credentials, from the environment), and the record each platform's
folder gives the registry to build its adapter (`ADAPTER` in platforms/<name>/adapter.py).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import httpx

from complaintflow.platforms.credentials import OAuthApp, TokenStore
from complaintflow.workflows.messages import ActionRequest, ActionResult

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
    def from_environment(cls) -> Endpoints:
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


@dataclasses.dataclass(frozen=True)
class OAuthConnect:
    """How `complaintflow connect <folder>` authorises the brand's account: OAuth 2.0 with
    PKCE in the operator's browser, the tokens kept in the token store."""

    title: str  # the platform as the command names it
    authorize_url: Callable[[Endpoints], str]
    unconfigured: str  # what to set when the settings have no OAuth app


@dataclasses.dataclass(frozen=True)
class AdapterPart:
    """How one platform folder's adapter is made from the settings."""

    folder: str
    # The adapter for these settings, over the process's HTTP client and token store.
    build: Callable[[Endpoints, httpx.AsyncClient, TokenStore | None], PlatformAdapter]
    # The OAuth app whose tokens live in the token store, if the settings configure one.
    oauth: Callable[[Endpoints], OAuthApp | None] = lambda _endpoints: None
    # The variables a worker needs for this platform that the settings lack.
    missing: Callable[[Endpoints], list[str]] = lambda _endpoints: []
    # Activities background workflows run on this adapter (the X mentions poll).
    background: Callable[[PlatformAdapter], list[Callable[..., Any]]] = lambda _adapter: []
    # For `complaintflow doctor`: the name it reports under, what the settings lack to call
    # the platform at all ("" when configured), and one read-only call proving the credentials.
    label: str = ""
    unconfigured: Callable[[Endpoints], str] = lambda _endpoints: ""
    check: Callable[[PlatformAdapter], Awaitable[str]] | None = None
    # The platform's `complaintflow connect` flow, if the brand authorises it interactively.
    connect: OAuthConnect | None = None

"""The Google Business Profile adapter: the one reply a review can have, with an OAuth access
token refreshed from the brand's refresh token (Google's access tokens are short-lived).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import httpx

from complaintflow.errors import PlatformError
from complaintflow.platforms.credentials import AccessTokens, OAuthApp, Tokens, TokenStore
from complaintflow.platforms.facts import BadId, checked_id
from complaintflow.platforms.http import send_bearer, with_token
from complaintflow.platforms.settings import AdapterPart, Endpoints, PlatformAdapter
from complaintflow.workflows.messages import ActionRequest, ActionResult


class GoogleBusinessAdapter:
    """Review replies on Google Business Profile (API v4)."""

    platforms: tuple[str, ...] = ("google_business",)

    def __init__(self, client: httpx.AsyncClient, url: str, *, tokens: AccessTokens | None) -> None:
        self.client = client
        self.url = url
        self.tokens = tokens

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        if self.tokens is None:
            raise PlatformError(
                "Google Business Profile needs COMPLAINTFLOW_GBP_CLIENT_ID, "
                "COMPLAINTFLOW_GBP_CLIENT_SECRET and COMPLAINTFLOW_GBP_REFRESH_TOKEN",
                retryable=False,
            )
        return await with_token(
            self.tokens,
            lambda token: send_bearer(self.client, self.url, method, path, token, **kwargs),
        )

    async def reply(self, request: ActionRequest) -> ActionResult:
        """PUT v4/{review name}/reply {comment}: creates or replaces the review's one reply,
        so a retry cannot make a second (https://developers.google.com/my-business/reference/
        rest/v4/accounts.locations.reviews/updateReply)."""
        try:
            review = checked_id("google_business", request.mention_id, "review name")
        except BadId as exc:
            raise PlatformError(str(exc), retryable=False) from None
        await self._call("PUT", f"/v4/{review}/reply", json={"comment": request.text})
        return ActionResult(f"{request.mention_id}/reply")

    async def private_message(self, request: ActionRequest) -> ActionResult:
        raise PlatformError("Google reviews have no private messages", retryable=False)

    async def remove(self, request: ActionRequest) -> ActionResult:
        raise PlatformError("a brand cannot remove a Google review", retryable=False)


@dataclasses.dataclass(frozen=True)
class GoogleSettings:
    """Where the Business Profile API is and the brand's OAuth client and refresh token
    (Google's refresh tokens do not rotate; access tokens live in the token store)."""

    url: str = "https://mybusiness.googleapis.com"
    client_id: str = ""
    client_secret: str = ""
    refresh_token: str = ""
    token_url: str = "https://oauth2.googleapis.com/token"

    @classmethod
    def from_environment(cls) -> GoogleSettings:
        """COMPLAINTFLOW_GBP_API_URL, COMPLAINTFLOW_GBP_CLIENT_ID/_SECRET/_REFRESH_TOKEN,
        COMPLAINTFLOW_GOOGLE_TOKEN_URL."""
        env = os.environ
        return cls(
            url=env.get("COMPLAINTFLOW_GBP_API_URL", cls.url),
            client_id=env.get("COMPLAINTFLOW_GBP_CLIENT_ID", ""),
            client_secret=env.get("COMPLAINTFLOW_GBP_CLIENT_SECRET", ""),
            refresh_token=env.get("COMPLAINTFLOW_GBP_REFRESH_TOKEN", ""),
            token_url=env.get("COMPLAINTFLOW_GOOGLE_TOKEN_URL", cls.token_url),
        )

    def oauth_app(self) -> OAuthApp | None:
        if not (self.client_id and self.refresh_token):
            return None
        return OAuthApp(
            "google", self.token_url, self.client_id, self.client_secret, secret_in_form=True
        )


def _settings(endpoints: Endpoints) -> GoogleSettings:
    return endpoints.of("google", GoogleSettings)


def _build(
    endpoints: Endpoints, client: httpx.AsyncClient, store: TokenStore | None
) -> GoogleBusinessAdapter:
    settings = _settings(endpoints)
    app = settings.oauth_app()
    if app is not None and store is not None:
        seed_google(store, settings.refresh_token)
    return GoogleBusinessAdapter(
        client, settings.url, tokens=AccessTokens(app, store) if app and store else None
    )


def _oauth(endpoints: Endpoints) -> OAuthApp | None:
    return _settings(endpoints).oauth_app()


def seed_google(store: TokenStore, refresh_token: str) -> None:
    """Put the configured Google refresh token in the store (Google's do not rotate), keeping
    a stored access token that belongs to the same refresh token."""
    stored = store.load("google")
    if stored is None or stored.refresh_token != refresh_token:
        store.save("google", Tokens("", refresh_token, 0.0))


async def _check(adapter: PlatformAdapter) -> str:
    assert isinstance(adapter, GoogleBusinessAdapter) and adapter.tokens is not None
    await adapter.tokens.get()  # a refresh when due: read-only, proves the grant
    return "access token refreshed from the refresh token"


ADAPTER = AdapterPart(
    "google",
    GoogleSettings,
    _build,
    oauth=_oauth,
    label="google_business",
    unconfigured=lambda e: (
        "" if _oauth(e) else "COMPLAINTFLOW_GBP_CLIENT_ID, _CLIENT_SECRET, _REFRESH_TOKEN"
    ),
    check=_check,
)

"""What the platform adapters share: the protocol every adapter keeps, the settings they are
built from (endpoints and credentials, from the environment), and the record each platform's
folder gives the registry to build its adapter (`ADAPTER` in platforms/<name>/adapter.py).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

import httpx

from complaintflow.platforms import registry
from complaintflow.platforms.credentials import OAuthApp, TokenStore
from complaintflow.workflows.messages import ActionRequest, ActionResult

SettingsT = TypeVar("SettingsT")


class PlatformAdapter(Protocol):
    """What every platform's adapter does (a step it cannot do raises a non-retryable
    PlatformError saying so)."""

    platforms: tuple[str, ...]

    async def reply(self, request: ActionRequest) -> ActionResult: ...

    async def private_message(self, request: ActionRequest) -> ActionResult: ...

    async def remove(self, request: ActionRequest) -> ActionResult: ...


class PlatformSettings(Protocol):
    """One platform's endpoints and credentials (a frozen dataclass in its folder whose
    defaults are the platform's real API)."""

    @classmethod
    def from_environment(cls) -> Any:
        """The settings from COMPLAINTFLOW_* variables, defaults where unset."""


@dataclasses.dataclass(frozen=True)
class Endpoints:
    """Where each platform's API is and the credentials to call it, by platform folder, and
    the token store the expiring tokens (X user context, Google) live in, never here.

    A folder without settings here gets its defaults (the real API, no credentials)."""

    platforms: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    token_store: Path = Path(".complaintflow/tokens.sqlite3")

    @classmethod
    def from_environment(cls) -> Endpoints:
        """Each platform's settings from its variables, and COMPLAINTFLOW_TOKEN_STORE."""
        return cls(
            {part.folder: part.settings.from_environment() for part in registry.adapters()},
            token_store=Path(
                os.environ.get("COMPLAINTFLOW_TOKEN_STORE", ".complaintflow/tokens.sqlite3")
            ),
        )

    @classmethod
    def emulated(cls, url: str, token_store: Path, token: str) -> Endpoints:
        """Every platform's settings for the emulator at `url`, `token` as every fixed secret
        (each folder's emulator.settings)."""
        return cls(
            {
                folder: registry.part(folder, "emulator").settings(url, token)
                for folder in registry.FOLDERS
            },
            token_store=token_store,
        )

    def changed(self, folder: str, **changes: Any) -> Endpoints:
        """These endpoints with some of `folder`'s settings changed."""
        settings = dataclasses.replace(self.platforms[folder], **changes)
        return dataclasses.replace(self, platforms={**self.platforms, folder: settings})

    def of(self, folder: str, kind: type[SettingsT]) -> SettingsT:
        """The settings of platform folder `folder`, as the `kind` they are."""
        settings = self.platforms.get(folder)
        if settings is None:
            return kind()
        if not isinstance(settings, kind):
            raise TypeError(f"the {folder} settings are a {type(settings).__name__}")
        return settings


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
    settings: type[PlatformSettings]  # the folder's settings (its own dataclass)
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

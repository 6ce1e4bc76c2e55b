"""OAuth 2.0 user tokens that live: stored in SQLite, refreshed before expiry, rotation-safe.

Several worker processes share one store. A refresh happens inside a write transaction
(BEGIN IMMEDIATE), so only one process at a time spends a refresh token; the others wait,
then read the new tokens instead of spending the old refresh token a second time (X rotates
refresh tokens: a spent one is refused, which would lock the brand out). Activities read
their tokens from here themselves: tokens never pass through workflow inputs (Temporal
history) and are never logged.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import hashlib
import os
import secrets
import sqlite3
import stat
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

from complaintflow.errors import ComplaintflowError, PlatformError
from complaintflow.walfile import write_ahead_log

REFRESH_MARGIN = 120.0  # seconds before expiry at which a token is refreshed
BUSY_TIMEOUT = 60.0  # how long a process waits for another one's refresh

# https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code: the scopes the
# adapters need (reply, hide, DM, read mentions) and offline.access for a refresh token.
X_SCOPES = (
    "tweet.read",
    "tweet.write",
    "tweet.moderate.write",
    "users.read",
    "dm.read",
    "dm.write",
    "offline.access",
)


@dataclasses.dataclass(frozen=True)
class OAuthApp:
    """A platform's OAuth client: where to refresh, and how the client authenticates.

    X (https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token): public
    clients send client_id in the form, confidential ones HTTP Basic client_id:secret.
    Google (https://developers.google.com/identity/protocols/oauth2/web-server#offline):
    client_id and client_secret in the form.
    """

    platform: str
    token_url: str
    client_id: str
    client_secret: str = ""
    secret_in_form: bool = False  # Google; X uses Basic for confidential clients

    def request(self, form: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        """The form and headers of a token request."""
        body = {**form, "client_id": self.client_id}
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if self.client_secret and self.secret_in_form:
            body["client_secret"] = self.client_secret
        elif self.client_secret:
            pair = f"{self.client_id}:{self.client_secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        return body, headers


@dataclasses.dataclass(frozen=True)
class Tokens:
    """One platform's tokens as stored. `repr` shows no secret."""

    access_token: str = dataclasses.field(repr=False)
    refresh_token: str = dataclasses.field(repr=False)
    expires_at: float
    refresh_at: float = 0.0  # when to refresh: before expiry by the margin, or a fifth of the life

    def fresh(self, margin: float = REFRESH_MARGIN) -> bool:
        due = self.refresh_at or self.expires_at - margin
        return bool(self.access_token) and time.time() < due


class TokenStore:
    """Tokens by platform in one SQLite file (shared by every worker on the machine)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            _private_folder(path.parent)
            _private_file(path)
        except OSError as exc:
            raise TokenStoreError(f"token store {str(path)!r}: {exc.strerror}") from None
        with contextlib.closing(self._connect()) as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS tokens (platform TEXT PRIMARY KEY, "
                "access_token TEXT NOT NULL, refresh_token TEXT NOT NULL, "
                "expires_at REAL NOT NULL, refresh_at REAL NOT NULL DEFAULT 0, "
                "updated_at REAL NOT NULL)"
            )
        for companion in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            with contextlib.suppress(FileNotFoundError):
                _private_file(companion, create=False)  # SQLite gives new ones the file's mode

    @classmethod
    def from_environment(cls) -> TokenStore:
        """COMPLAINTFLOW_TOKEN_STORE (default .complaintflow/tokens.sqlite3)."""
        return cls(
            Path(os.environ.get("COMPLAINTFLOW_TOKEN_STORE", ".complaintflow/tokens.sqlite3"))
        )

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        write_ahead_log(db, BUSY_TIMEOUT)
        return db

    def load(self, platform: str) -> Tokens | None:
        db = self._connect()
        try:
            row = db.execute(
                "SELECT access_token, refresh_token, expires_at, refresh_at FROM tokens "
                "WHERE platform = ?",
                (platform,),
            ).fetchone()
        finally:
            db.close()
        return Tokens(row[0], row[1], float(row[2]), float(row[3])) if row else None

    def save(self, platform: str, tokens: Tokens) -> None:
        db = self._connect()
        try:
            _put(db, platform, tokens)
        finally:
            db.close()

    def refresh(
        self, app: OAuthApp, stale: Tokens | None, *, client: httpx.Client, margin: float
    ) -> Tokens:
        """New tokens for `app`, refreshing at most once across every process sharing the file.

        Holding the write lock, re-read: if another process already replaced `stale` (or the
        stored token is still fresh), use what it stored; else spend the refresh token and
        store the answer before releasing the lock.
        """
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute(
                "SELECT access_token, refresh_token, expires_at, refresh_at FROM tokens "
                "WHERE platform = ?",
                (app.platform,),
            ).fetchone()
            if row is None:
                raise PlatformError(
                    f"no {app.platform} credentials are stored: {_remedy(app.platform)}",
                    retryable=False,
                )
            current = Tokens(row[0], row[1], float(row[2]), float(row[3]))
            replaced = stale is not None and current.access_token != stale.access_token
            if replaced or (stale is None and current.fresh(margin)):
                db.execute("COMMIT")
                return current
            if not current.refresh_token:
                raise PlatformError(
                    f"the {app.platform} access token expired and there is no refresh token: "
                    f"{_remedy(app.platform)}",
                    retryable=False,
                )
            form, headers = app.request(
                {"grant_type": "refresh_token", "refresh_token": current.refresh_token}
            )
            try:
                answer = client.post(app.token_url, data=form, headers=headers)
            except httpx.HTTPError as exc:
                raise PlatformError(
                    f"{app.platform} token refresh: {type(exc).__name__}", retryable=True
                ) from None
            if answer.status_code >= 400:
                raise _refresh_failure(app.platform, answer)
            tokens = _tokens_from(answer.json(), keep_refresh=current.refresh_token)
            _put(db, app.platform, tokens)
            db.execute("COMMIT")
            return tokens
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()


class TokenStoreError(ComplaintflowError):
    """The token store's folder or file is not private, or cannot be made so; says which."""


_OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH


def _private_folder(folder: Path) -> None:
    """Create `folder` for the owner only (0700, whatever the umask), or check an existing one:
    others able to write in it could swap the token file, so such a folder of ours loses
    their write permission, and one that is not ours (or shared, sticky like /tmp) is
    refused."""
    missing = []
    probe = folder
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for created in reversed(missing):  # each folder it creates, not only the last
        with contextlib.suppress(FileExistsError):
            created.mkdir(mode=0o700)
            os.chmod(created, 0o700)  # mkdir's mode passes through the umask
    found = folder.stat()
    if not stat.S_ISDIR(found.st_mode):
        raise TokenStoreError(f"token store folder {str(folder)!r} is not a folder")
    mode = stat.S_IMODE(found.st_mode)
    if not mode & _OTHERS_WRITE:
        return
    if found.st_uid != os.geteuid() or mode & stat.S_ISVTX:
        raise TokenStoreError(
            f"token store folder {str(folder)!r} can be written by others (mode {mode:o}) and "
            "is not this user's own folder to change; point COMPLAINTFLOW_TOKEN_STORE at a "
            "file in a private folder"
        )
    os.chmod(folder, mode & ~_OTHERS_WRITE)  # reading it is harmless: the file is 0600


def _private_file(path: Path, *, create: bool = True) -> None:
    """Make the token file (created 0600 before SQLite opens it) readable by the owner only."""
    fd = os.open(path, os.O_RDWR | os.O_NONBLOCK | (os.O_CREAT if create else 0), 0o600)
    try:
        found = os.fstat(fd)
        if not stat.S_ISREG(found.st_mode):
            raise TokenStoreError(f"token store {str(path)!r} is not a regular file")
        if stat.S_IMODE(found.st_mode) != 0o600:  # the umask may take more, or less
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _put(db: sqlite3.Connection, platform: str, tokens: Tokens) -> None:
    db.execute(
        "INSERT INTO tokens (platform, access_token, refresh_token, expires_at, refresh_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(platform) DO UPDATE SET "
        "access_token = excluded.access_token, refresh_token = excluded.refresh_token, "
        "expires_at = excluded.expires_at, refresh_at = excluded.refresh_at, "
        "updated_at = excluded.updated_at",
        (
            platform,
            tokens.access_token,
            tokens.refresh_token,
            tokens.expires_at,
            tokens.refresh_at,
            time.time(),
        ),
    )


def _tokens_from(answer: object, *, keep_refresh: str = "") -> Tokens:
    """Tokens from a token endpoint's JSON answer (Google does not repeat the refresh token)."""
    if not isinstance(answer, dict) or not isinstance(answer.get("access_token"), str):
        raise PlatformError("the token endpoint answered without an access_token", retryable=True)
    given = answer.get("expires_in")
    lifetime = float(given) if isinstance(given, (int, float)) else 3600.0
    now = time.time()
    refresh = answer.get("refresh_token")
    return Tokens(
        answer["access_token"],
        refresh if isinstance(refresh, str) else keep_refresh,
        now + lifetime,
        now + lifetime - min(REFRESH_MARGIN, lifetime / 5),
    )


def _remedy(platform: str) -> str:
    """What the operator does about missing or refused credentials."""
    if platform == "x":
        return "run `complaintflow connect x` (again)"
    return "set a valid COMPLAINTFLOW_GBP_REFRESH_TOKEN (Google OAuth, offline access)"


def _refresh_failure(platform: str, answer: httpx.Response) -> PlatformError:
    """A refused refresh: the platform's error code only (its body could echo a token)."""
    try:
        body = answer.json()
        code = str(body.get("error", "")) if isinstance(body, dict) else ""
    except ValueError:
        code = ""
    return PlatformError(
        f"{platform} token refresh refused ({answer.status_code} {code}): {_remedy(platform)}",
        status=answer.status_code,
        retryable=answer.status_code >= 500 or answer.status_code == 429,
    )


class AccessTokens:
    """The access token for one platform's calls, refreshed before it expires."""

    def __init__(self, app: OAuthApp, store: TokenStore, *, margin: float = REFRESH_MARGIN) -> None:
        self.app = app
        self.store = store
        self.margin = margin
        self._lock = asyncio.Lock()  # one refresh at a time within this process
        self._known: Tokens | None = None  # the last tokens read: no store read while fresh

    async def get(self) -> str:
        known = self._known
        if known is not None and known.fresh(self.margin):
            return known.access_token
        tokens = await asyncio.to_thread(self.store.load, self.app.platform)
        self._known = tokens
        if tokens is None:
            raise PlatformError(
                f"no {self.app.platform} credentials are stored: {_remedy(self.app.platform)}",
                retryable=False,
            )
        if tokens.fresh(self.margin):
            return tokens.access_token
        return await self.refreshed(tokens)

    async def refreshed(self, stale: Tokens | None) -> str:
        """A new access token (`stale` is the one found expiring or refused)."""
        async with self._lock:
            tokens = await asyncio.to_thread(self._refresh, stale)
        self._known = tokens
        return tokens.access_token

    async def refused(self, access_token: str) -> str:
        """The platform refused `access_token` (401): a refreshed one."""
        self._known = None
        stored = await asyncio.to_thread(self.store.load, self.app.platform)
        if stored is not None and stored.access_token != access_token and stored.fresh(0.0):
            return stored.access_token  # another process refreshed meanwhile
        return await self.refreshed(stored)

    def _refresh(self, stale: Tokens | None) -> Tokens:
        with httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0)) as client:
            return self.store.refresh(self.app, stale, client=client, margin=self.margin)


# -- OAuth 2.0 Authorization Code with PKCE (X) ----------------------------------------------
@dataclasses.dataclass(frozen=True)
class Authorisation:
    """An authorisation request in progress: the URL to open, and what the exchange needs."""

    url: str
    state: str = dataclasses.field(repr=False)
    verifier: str = dataclasses.field(repr=False)
    redirect_uri: str


def start_authorisation(
    app: OAuthApp, authorize_url: str, redirect_uri: str, scopes: tuple[str, ...] = X_SCOPES
) -> Authorisation:
    """The authorisation URL with a fresh PKCE verifier (S256) and state (RFC 7636)."""
    verifier = secrets.token_urlsafe(64)[:96]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state = secrets.token_urlsafe(24)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(scopes),
            "state": state,
            "code_challenge": challenge.decode().rstrip("="),
            "code_challenge_method": "S256",
        }
    )
    return Authorisation(f"{authorize_url}?{query}", state, verifier, redirect_uri)


def exchange_code(
    app: OAuthApp, authorisation: Authorisation, code: str, *, client: httpx.Client
) -> Tokens:
    """Trade the redirect's code for tokens (grant_type=authorization_code + code_verifier)."""
    form, headers = app.request(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": authorisation.redirect_uri,
            "code_verifier": authorisation.verifier,
        }
    )
    answer = client.post(app.token_url, data=form, headers=headers)
    if answer.status_code >= 400:
        raise _refresh_failure(app.platform, answer)
    tokens = _tokens_from(answer.json())
    if not tokens.refresh_token:
        raise PlatformError(
            "no refresh token came back: the offline.access scope was not granted",
            retryable=False,
        )
    return tokens

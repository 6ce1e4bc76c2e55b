"""`complaintflow connect x` (OAuth 2.0 with PKCE, tokens into the token store) and
`complaintflow doctor` (one read-only call per configured platform: what is missing or expired).
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import sys
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

import httpx

from complaintflow.errors import PlatformError

if TYPE_CHECKING:  # the commands load adapters and the token store only when they run
    from complaintflow.activities.operations import OperationsConfig
    from complaintflow.platforms.credentials import TokenStore
    from complaintflow.platforms.settings import AdapterPart, Endpoints

DEFAULT_REDIRECT = "http://127.0.0.1:8765/callback"
MAX_PASTE = 8192  # a redirect address with its code and state is a few hundred characters


def add_commands(commands: Any) -> None:
    """Register `connect` and `doctor` on the CLI's subcommands."""
    connect = commands.add_parser(
        "connect", help="authorise complaintflow on a platform (X: OAuth 2.0 with PKCE)"
    )
    # Which platforms have a connect flow is read when the command runs: listing them here
    # would load every adapter into every command (the supervisor CLI's included).
    connect.add_argument("platform", help="the platform to connect (x)")
    connect.add_argument(
        "--redirect-uri",
        default=DEFAULT_REDIRECT,
        help=f"the callback URL registered in the X app's settings (default {DEFAULT_REDIRECT})",
    )
    connect.set_defaults(handler=run_connect)
    doctor = commands.add_parser(
        "doctor", help="check each configured platform's credentials with one read-only call"
    )
    doctor.set_defaults(handler=run_doctor)


def run_connect(args: argparse.Namespace) -> int:
    from complaintflow.platforms import registry
    from complaintflow.platforms.credentials import (
        TokenStore,
        TokenStoreError,
        exchange_code,
        start_authorisation,
    )
    from complaintflow.platforms.settings import Endpoints

    flows = {part.folder: part for part in registry.adapters() if part.connect is not None}
    part = flows.get(args.platform)
    if part is None or part.connect is None:
        known = ", ".join(sorted(flows))
        print(
            f"complaintflow connect: {args.platform[:40]!r} has no connect flow (one of: {known})",
            file=sys.stderr,
        )
        return 2
    flow = part.connect
    endpoints = Endpoints.from_environment()
    app = part.oauth(endpoints)
    if app is None:
        print(f"complaintflow connect: {flow.unconfigured}", file=sys.stderr)
        return 2
    authorisation = start_authorisation(app, flow.authorize_url(endpoints), args.redirect_uri)
    print(f"Open this URL, sign in as the brand's {flow.title} account and allow access:")
    print(authorisation.url)
    print("Then paste the whole address your browser was sent to (it has code= and state=):")
    sys.stdout.flush()
    query, problem = _callback(sys.stdin.readline(MAX_PASTE + 1), authorisation.state, flow.title)
    if problem:
        print(f"complaintflow connect: {problem}", file=sys.stderr)
        return 1
    try:
        store = TokenStore(endpoints.token_store)
    except TokenStoreError as exc:
        print(f"complaintflow connect: {exc}", file=sys.stderr)
        return 1
    code = query["code"][0]
    try:
        with httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0)) as client:
            tokens = exchange_code(app, authorisation, code, client=client)
    except PlatformError as exc:
        print(f"complaintflow connect: {exc}", file=sys.stderr)
        return 1
    store.save(app.platform, tokens)
    who = asyncio.run(_check(part, endpoints, store))
    print(f"{flow.title} connected: {who}; tokens stored in {store.path} (refreshed automatically)")
    return 0


def _callback(pasted: str, state: str, title: str) -> tuple[dict[str, list[str]], str]:
    """The redirect's query and, when it cannot be used, why.

    The redirect must carry this request's `state`: a code without it could come from an
    authorisation someone else started, and would connect the brand to their account
    (RFC 6749 section 10.12). So a bare code, or an address without state=, is refused.
    """
    if len(pasted) > MAX_PASTE:
        return {}, f"what was pasted is over {MAX_PASTE:,} characters; paste the address only"
    query = parse_qs(urlparse(pasted.strip()).query)
    given = query.get("state")
    if not given:
        return query, (
            "no state= in what was pasted: paste the whole address your browser was sent to "
            "(the state ties it to this request)"
        )
    if len(given) != 1 or not hmac.compare_digest(given[0].encode(), state.encode()):
        return query, "the state does not match this request: start again with this command"
    if query.get("error"):
        return query, f"{title} refused: {query['error'][0]}"
    if len(query.get("code", [])) != 1 or not query["code"][0]:
        return query, "no code= in what was pasted"
    return query, ""


async def _check(part: AdapterPart, endpoints: Endpoints, store: TokenStore) -> str:
    """Who the new tokens act as: the platform's read-only check."""
    from complaintflow.activities.platforms import Platforms

    platforms = Platforms(endpoints, store=store)
    try:
        if part.check is None:
            return "authorised"
        return await part.check(platforms.by_folder[part.folder])
    finally:
        await platforms.client.aclose()


def run_doctor(_args: argparse.Namespace) -> int:
    from complaintflow.activities.operations import OperationsConfig
    from complaintflow.platforms.settings import Endpoints

    lines = asyncio.run(diagnose(Endpoints.from_environment(), OperationsConfig.from_environment()))
    width = max(len(name) for name, _, _ in lines)
    for name, ok, text in lines:
        mark = "ok  " if ok is True else "FAIL" if ok is False else "-   "
        print(f"{mark} {name:<{width}}  {text}")
    return 1 if any(ok is False for _, ok, _ in lines) else 0


async def diagnose(
    endpoints: Endpoints, operations: OperationsConfig
) -> list[tuple[str, bool | None, str]]:
    """(platform, ok / failed / not configured, what to know) for each platform."""
    from complaintflow.activities.platforms import Platforms

    platforms = Platforms(endpoints)
    found: list[tuple[str, bool | None, str]] = []
    try:
        for folder, part in platforms.parts.items():
            if lacking := part.unconfigured(endpoints):
                found.append((part.label, None, f"not configured ({lacking})"))
            elif part.check is not None:
                found.append(await _probe(part.label, part.check(platforms.by_folder[folder])))
        found.append(await _slack(platforms.client, operations))
    finally:
        await platforms.client.aclose()
    return found


async def _probe(name: str, check: Awaitable[str]) -> tuple[str, bool | None, str]:
    try:
        return (name, True, str(await check))
    except PlatformError as exc:
        return (name, False, str(exc))


async def _slack(
    client: httpx.AsyncClient, config: OperationsConfig
) -> tuple[str, bool | None, str]:
    if config.slack_bot_token:
        # https://docs.slack.dev/reference/methods/auth.test: who the token is
        try:
            answer = await client.post(
                config.slack_api_url.rstrip("/") + "/auth.test",
                headers={"Authorization": f"Bearer {config.slack_bot_token}"},
            )
            body = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            return ("slack", False, f"auth.test: {type(exc).__name__}")
        if body.get("ok") is True:
            return ("slack", True, f"bot in team {body.get('team', '?')}: routes by channel")
        return ("slack", False, f"auth.test: {body.get('error', 'not ok')}")
    if config.slack_webhooks:
        channels = ", ".join(sorted(config.slack_webhooks))
        return ("slack", None, f"one webhook per channel ({channels}); not checked (posting)")
    if config.slack_webhook_url:
        return (
            "slack",
            None,
            "one incoming webhook: every alert lands in its channel (set "
            "COMPLAINTFLOW_SLACK_BOT_TOKEN to route by channel)",
        )
    return ("slack", None, "not configured")

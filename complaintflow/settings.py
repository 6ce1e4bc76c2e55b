"""Every COMPLAINTFLOW_* environment variable the code reads, in one table.

The table documents the variables; it does not read them (each reader keeps its own
`os.environ.get`, next to the default it applies). `scripts/generate_configuration.py` writes
docs/configuration.md from it, and tests/test_configuration.py fails when a variable read
anywhere in the package is missing here, when one listed here is read nowhere, or when the
page differs from what the generator writes.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Setting:
    """One environment variable: its name, the value used when it is unset, the commands or
    processes that read it, and what it does."""

    name: str
    default: str
    read_by: str
    does: str
    group: str


_TEMPORAL = "Temporal and the worker"
_STORE = "Decision store and state"
_INGEST = "Ingest (webhooks)"
_X = "X"
_META = "Facebook and Instagram (Meta Graph API)"
_GOOGLE = "Google Business Profile"
_OPS = "Notifications, tickets and the archive"
_CODEC = "Payload encryption (codec)"
_DEV = "Development and tests"

GROUPS: tuple[str, ...] = (_TEMPORAL, _STORE, _INGEST, _X, _META, _GOOGLE, _OPS, _CODEC, _DEV)

SETTINGS: tuple[Setting, ...] = (
    # Temporal and the worker
    Setting(
        "COMPLAINTFLOW_TASK_QUEUE",
        "complaintflow",
        "every command with --task-queue (worker, serve, dev, approve, ...)",
        "The Temporal task queue cases run on (the --task-queue default).",
        _TEMPORAL,
    ),
    Setting(
        "COMPLAINTFLOW_ACTIONS",
        "platforms",
        "worker",
        "Where actions go: `platforms` calls X/Graph/Slack/Zendesk, `webhook` posts every "
        "action to COMPLAINTFLOW_ACTIONS_URL (the --actions default).",
        _TEMPORAL,
    ),
    Setting(
        "COMPLAINTFLOW_ACTIONS_URL",
        "(none; required with --actions webhook)",
        "worker (activities/webhook.py)",
        "The URL every action is posted to when actions go to a webhook.",
        _TEMPORAL,
    ),
    Setting(
        "COMPLAINTFLOW_ACTIONS_SECRET",
        "(none: unsigned)",
        "worker (activities/webhook.py)",
        "The secret that signs each action posted to COMPLAINTFLOW_ACTIONS_URL.",
        _TEMPORAL,
    ),
    Setting(
        "COMPLAINTFLOW_METRICS_PORT",
        "0 (no metrics)",
        "worker",
        "Serve Prometheus metrics (the SDK's and activity outcomes) on this port.",
        _TEMPORAL,
    ),
    Setting(
        "COMPLAINTFLOW_MAX_CACHED_WORKFLOWS",
        "1000",
        "worker",
        "Cases kept in memory between their steps (--max-cached-workflows).",
        _TEMPORAL,
    ),
    Setting(
        "COMPLAINTFLOW_MAX_CONCURRENT_WORKFLOW_TASKS",
        "100",
        "worker",
        "Workflow tasks run at once (--max-concurrent-workflow-tasks).",
        _TEMPORAL,
    ),
    Setting(
        "COMPLAINTFLOW_MAX_CONCURRENT_ACTIVITIES",
        "100",
        "worker",
        "Platform calls in flight at once (--max-concurrent-activities).",
        _TEMPORAL,
    ),
    Setting(
        "COMPLAINTFLOW_INGEST_URL",
        "(none: polled mentions are not forwarded)",
        "worker (activities/forward.py)",
        "The ingest service polled mentions (poll-x) are forwarded to.",
        _TEMPORAL,
    ),
    Setting(
        "COMPLAINTFLOW_UI_URL",
        "http://localhost:8233",
        "show, report (cli/operators/records.py)",
        "The Temporal Web UI the case links point at (the --ui default).",
        _TEMPORAL,
    ),
    # Decision store and state
    Setting(
        "COMPLAINTFLOW_DATABASE_URL",
        "SQLite .complaintflow/complaintflow.db (serve: beside --decision-log; dev: its state "
        "folder)",
        "worker, serve, dev, loop, labels and every command reading the store",
        "The decision store: a sqlite:/// or postgresql:// URL.",
        _STORE,
    ),
    Setting(
        "COMPLAINTFLOW_TOKEN_STORE",
        ".complaintflow/tokens.sqlite3",
        "worker, connect, doctor (platforms/credentials.py, platforms/settings.py)",
        "The file expiring platform tokens (X user context, Google) are kept in.",
        _STORE,
    ),
    Setting(
        "COMPLAINTFLOW_ARCHIVE_DIR",
        ".complaintflow/archive",
        "worker (activities/operations.py)",
        "The folder the `archive` step writes complaints to.",
        _STORE,
    ),
    # Ingest
    Setting(
        "COMPLAINTFLOW_WEBHOOK_SECRET",
        "(none: the generic webhook refuses every post)",
        "serve, worker (forwarding), open (ingest/opening.py)",
        "The signing secret of the generic webhook source, of mentions the worker forwards "
        "and of supervisors' open requests.",
        _INGEST,
    ),
    Setting(
        "COMPLAINTFLOW_ZENDESK_SECRET",
        "(none: /webhooks/zendesk refuses every post)",
        "serve (ingest/contacts.py)",
        "The Zendesk webhook's signing secret: a ticket the customer created or answered "
        "reaches its case as their email contact.",
        _INGEST,
    ),
    Setting(
        "COMPLAINTFLOW_X_CONSUMER_SECRET",
        "(none: X webhooks refused)",
        "serve (platforms/x/webhooks.py)",
        "The X app's consumer secret: verifies X's webhook signatures and answers its CRC.",
        _INGEST,
    ),
    Setting(
        "COMPLAINTFLOW_META_APP_SECRET",
        "(none: Meta webhooks refused)",
        "serve (platforms/meta/webhooks.py)",
        "The Meta app secret: verifies the X-Hub-Signature-256 of Facebook/Instagram posts.",
        _INGEST,
    ),
    Setting(
        "COMPLAINTFLOW_META_VERIFY_TOKEN",
        "(none: Meta's subscription check refused)",
        "serve (platforms/meta/webhooks.py)",
        "The token Meta echoes when it verifies the webhook subscription.",
        _INGEST,
    ),
    Setting(
        "COMPLAINTFLOW_CRM_URL",
        "(none: no customer lookup)",
        "serve (ingest/enrich.py)",
        "The CRM looked up at ingest for the author's customer record.",
        _INGEST,
    ),
    Setting(
        "COMPLAINTFLOW_CRM_TOKEN",
        "(none)",
        "serve (ingest/enrich.py)",
        "The bearer token for COMPLAINTFLOW_CRM_URL.",
        _INGEST,
    ),
    # X
    Setting(
        "COMPLAINTFLOW_X_API_URL",
        "https://api.x.com",
        "worker, connect, doctor (platforms/x/adapter.py)",
        "The X API's base URL (the emulator's in development).",
        _X,
    ),
    Setting(
        "COMPLAINTFLOW_X_TOKEN",
        "(none)",
        "worker (platforms/x/adapter.py)",
        "The X app-only bearer token (reads, polling).",
        _X,
    ),
    Setting(
        "COMPLAINTFLOW_X_CLIENT_ID",
        "(none: replies on X unconfigured)",
        "worker, connect x (platforms/x/adapter.py)",
        "The X OAuth 2.0 client id for the brand's user-context token.",
        _X,
    ),
    Setting(
        "COMPLAINTFLOW_X_CLIENT_SECRET",
        "(none: a public client)",
        "worker, connect x (platforms/x/adapter.py)",
        "The X OAuth 2.0 client secret (confidential clients).",
        _X,
    ),
    Setting(
        "COMPLAINTFLOW_X_TOKEN_URL",
        "COMPLAINTFLOW_X_API_URL + /2/oauth2/token",
        "worker, connect x (platforms/x/adapter.py)",
        "Where X OAuth tokens are obtained and refreshed.",
        _X,
    ),
    Setting(
        "COMPLAINTFLOW_X_AUTHORIZE_URL",
        "https://x.com/i/oauth2/authorize",
        "connect x (platforms/x/adapter.py)",
        "Where `connect x` sends the brand's account to authorise the app.",
        _X,
    ),
    # Meta
    Setting(
        "COMPLAINTFLOW_GRAPH_API_VERSION",
        "v24.0",
        "worker, doctor (platforms/meta/adapter.py)",
        "The Graph API version in the default COMPLAINTFLOW_GRAPH_API_URL.",
        _META,
    ),
    Setting(
        "COMPLAINTFLOW_GRAPH_API_URL",
        "https://graph.facebook.com/<COMPLAINTFLOW_GRAPH_API_VERSION>",
        "worker, doctor (platforms/meta/adapter.py)",
        "The Graph API's base URL (the emulator's in development).",
        _META,
    ),
    Setting(
        "COMPLAINTFLOW_GRAPH_TOKEN",
        "(none: Facebook/Instagram steps unconfigured)",
        "worker, doctor (platforms/meta/adapter.py)",
        "The Page access token Facebook and Instagram calls are made with.",
        _META,
    ),
    Setting(
        "COMPLAINTFLOW_INSTAGRAM_PAGE_ID",
        "(none)",
        "worker (platforms/meta/adapter.py)",
        "The Facebook Page linked to the Instagram account (Instagram private replies).",
        _META,
    ),
    # Google
    Setting(
        "COMPLAINTFLOW_GBP_API_URL",
        "https://mybusiness.googleapis.com",
        "worker, doctor (platforms/google/adapter.py)",
        "The Google Business Profile API's base URL.",
        _GOOGLE,
    ),
    Setting(
        "COMPLAINTFLOW_GBP_CLIENT_ID",
        "(none: review replies unconfigured)",
        "worker, doctor (platforms/google/adapter.py)",
        "The Google OAuth client id.",
        _GOOGLE,
    ),
    Setting(
        "COMPLAINTFLOW_GBP_CLIENT_SECRET",
        "(none)",
        "worker, doctor (platforms/google/adapter.py)",
        "The Google OAuth client secret.",
        _GOOGLE,
    ),
    Setting(
        "COMPLAINTFLOW_GBP_REFRESH_TOKEN",
        "(none)",
        "worker, doctor (platforms/google/adapter.py, platforms/credentials.py)",
        "The Google OAuth refresh token (offline access) access tokens are made from.",
        _GOOGLE,
    ),
    Setting(
        "COMPLAINTFLOW_GOOGLE_TOKEN_URL",
        "https://oauth2.googleapis.com/token",
        "worker, doctor (platforms/google/adapter.py)",
        "Where Google access tokens are refreshed.",
        _GOOGLE,
    ),
    # Operations
    Setting(
        "COMPLAINTFLOW_SLACK_WEBHOOK_URL",
        "(none)",
        "worker (activities/operations.py)",
        "The Slack incoming webhook `notify` posts to when no channel-specific one applies.",
        _OPS,
    ),
    Setting(
        "COMPLAINTFLOW_SLACK_WEBHOOKS",
        "(none)",
        "worker (activities/operations.py, activities/notify.py)",
        'Slack incoming webhooks by channel, as JSON: {"#channel": "https://hooks.slack.com/..."}.',
        _OPS,
    ),
    Setting(
        "COMPLAINTFLOW_SLACK_BOT_TOKEN",
        "(none)",
        "worker, doctor (activities/operations.py, cli/operators/connect.py)",
        "A Slack bot token: `notify` posts to any channel the policy names.",
        _OPS,
    ),
    Setting(
        "COMPLAINTFLOW_SLACK_API_URL",
        "https://slack.com/api",
        "worker (activities/operations.py)",
        "The Slack Web API's base URL (for the bot token).",
        _OPS,
    ),
    Setting(
        "COMPLAINTFLOW_NOTIFY_WEBHOOK_URL",
        "(none)",
        "worker (activities/operations.py)",
        "A generic webhook `notify` posts to (instead of Slack).",
        _OPS,
    ),
    Setting(
        "COMPLAINTFLOW_ZENDESK_URL",
        "(none)",
        "worker (activities/operations.py)",
        "The Zendesk instance `ticket` opens tickets in.",
        _OPS,
    ),
    Setting(
        "COMPLAINTFLOW_ZENDESK_EMAIL",
        "(none)",
        "worker (activities/operations.py)",
        "The Zendesk agent's email (API token authentication).",
        _OPS,
    ),
    Setting(
        "COMPLAINTFLOW_ZENDESK_TOKEN",
        "(none)",
        "worker (activities/operations.py)",
        "The Zendesk API token.",
        _OPS,
    ),
    Setting(
        "COMPLAINTFLOW_TICKET_WEBHOOK_URL",
        "(none)",
        "worker (activities/operations.py)",
        "A generic webhook `ticket` posts to (instead of Zendesk).",
        _OPS,
    ),
    # Codec
    Setting(
        "COMPLAINTFLOW_CODEC_KEYS",
        "(none: payloads unencrypted)",
        "every process talking to Temporal (codec/keys.py)",
        'Payload encryption keys, "ID:BASE64KEY,ID:BASE64KEY" (32-byte keys; the first '
        "encrypts, all decrypt).",
        _CODEC,
    ),
    Setting(
        "COMPLAINTFLOW_CODEC_KEYS_FILE",
        "(none)",
        "every process talking to Temporal (codec/keys.py)",
        "A file holding the same text as COMPLAINTFLOW_CODEC_KEYS.",
        _CODEC,
    ),
    Setting(
        "COMPLAINTFLOW_CODEC_TOKEN",
        "(none; dev: a random token)",
        "codec-server, dev (codec/server.py)",
        "The bearer token the codec server asks of the Web UI.",
        _CODEC,
    ),
    # Development and tests
    Setting(
        "COMPLAINTFLOW_DEV_TOKEN_LIFETIME",
        "300",
        "dev (devkit/stack.py)",
        "Seconds the emulator's OAuth tokens live in the dev stack (short, to exercise refresh).",
        _DEV,
    ),
    Setting(
        "COMPLAINTFLOW_RECORD_HISTORIES",
        "(unset: not recorded)",
        "the test suite (tests/support/cases.py)",
        "With 1, the workflow tests save each case's history for tests/workflows/test_replay.py.",
        _DEV,
    ),
)


def by_name() -> dict[str, Setting]:
    """The table by variable name."""
    return {setting.name: setting for setting in SETTINGS}


def render_markdown() -> str:
    """docs/configuration.md: the table by group, as scripts/generate_configuration.py writes it."""
    lines = [
        "# Configuration",
        "",
        "<!-- Generated from complaintflow/settings.py by scripts/generate_configuration.py;",
        "     edit the table there, then run: python scripts/generate_configuration.py -->",
        "",
        "Every `COMPLAINTFLOW_*` environment variable complaintflow reads. Secrets and",
        "endpoints come from here, never from policy files. Temporal's own connection settings",
        "(`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_PROFILE`, ...) are Temporal's",
        "standard environment configuration and are not listed.",
        "",
    ]
    for group in GROUPS:
        lines += [f"## {group}", "", "| Variable | Default | Read by | What it does |"]
        lines.append("| --- | --- | --- | --- |")
        for setting in SETTINGS:
            if setting.group == group:
                cells = (f"`{setting.name}`", setting.default, setting.read_by, setting.does)
                lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
        lines.append("")
    return "\n".join(lines)


def _cell(text: str) -> str:
    """A table cell: a pipe inside it would split the row."""
    return text.replace("|", "\\|")

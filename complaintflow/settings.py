"""Every COMPLAINTFLOW_* environment variable the code reads, in one table: the core's here,
each platform's from its folder (platforms/<name>/variables.py).

The table documents the variables; it does not read them (each reader keeps its own
`os.environ.get`, next to the default it applies). `scripts/generate_configuration.py` writes
docs/configuration.md from it, and tests/test_configuration.py fails when a variable read
anywhere in the package is missing here, when one listed here is read nowhere, or when the
page differs from what the generator writes.
"""

from __future__ import annotations

import dataclasses

from complaintflow.platforms import registry


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
_OPS = "Notifications, tickets and the archive"
_CODEC = "Payload encryption (codec)"
_DEV = "Development and tests"

_CORE: tuple[Setting, ...] = (
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


def _platforms() -> tuple[tuple[str, ...], tuple[Setting, ...]]:
    """Each platform folder's heading and variables (platforms/<name>/variables.py)."""
    groups: list[str] = []
    rows: list[Setting] = []
    for folder in registry.FOLDERS:
        group, variables = registry.variables(folder)
        groups.append(group)
        rows += [
            Setting(v.name, v.default, v.read_by, v.does, _INGEST if v.webhook else group)
            for v in variables
        ]
    return tuple(groups), tuple(rows)


_PLATFORM_GROUPS, _PLATFORM_SETTINGS = _platforms()
GROUPS: tuple[str, ...] = (_TEMPORAL, _STORE, _INGEST, *_PLATFORM_GROUPS, _OPS, _CODEC, _DEV)
SETTINGS: tuple[Setting, ...] = (*_CORE, *_PLATFORM_SETTINGS)


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

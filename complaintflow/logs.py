"""Logging for long-running processes: structlog, JSON in production, readable in a terminal.

Configured once at the edge (the worker and serve commands); code calls
structlog.get_logger() and logs stable dotted event names with key-value context. The Temporal
SDK's own log records (its Python ones, its core's forwarded ones) and uvicorn's (tracebacks
included) go through the same processors.

One processor, `REDACTOR`, keeps secrets out: values of keys that name a secret, and any
occurrence of a credential taken from the environment, whatever key or message carries it
(a Slack webhook URL inside an error, say). Where the live policy says
`privacy: {redact_customer_text: true}` it also replaces customers' words and handles with
their length.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any, TextIO

import structlog

SECRET_KEYS = ("secret", "token", "api_key", "password", "authorization", "signature")
SECRET_ENV = re.compile(r"SECRET|TOKEN|API_KEY|PASSWORD|WEBHOOK_URL|ACTIONS_URL")
CUSTOMER_KEYS = frozenset({"text", "author", "author_handle", "author_name", "customer_text"})
SHORTEST_SECRET = 6  # shorter values would redact ordinary words


class Redactor:
    """A structlog processor that removes secrets and, when asked, customer text."""

    def __init__(self, secrets: Iterable[str] = (), *, customer_text: bool = False) -> None:
        self.secrets = sorted({s for s in secrets if len(s) >= SHORTEST_SECRET}, key=len)[::-1]
        self.customer_text = customer_text

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Redactor:
        """Every credential the process was given (names with SECRET, TOKEN, API_KEY, ...)."""
        env = os.environ if environ is None else environ
        return cls(value for name, value in env.items() if SECRET_ENV.search(name.upper()))

    def __call__(
        self, _logger: Any, _method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key, value in event.items():
            lowered = key.lower()
            if any(word in lowered for word in SECRET_KEYS):
                event[key] = "[redacted]"
            elif self.customer_text and lowered in CUSTOMER_KEYS and isinstance(value, str):
                event[key] = f"[customer text: {len(value)} chars]"
            elif isinstance(value, str) and self.secrets:
                event[key] = self._scrub(value)
        return event

    def _scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, "[redacted]")
        return text


REDACTOR = Redactor()


def redact_customer_text(enabled: bool) -> None:
    """Follow the live policy's `privacy.redact_customer_text`."""
    REDACTOR.customer_text = enabled


class CurrentStderr:
    """sys.stderr as it is when a line is written: whoever replaces it after logging was set
    up (a test capturing output, an embedding program) gets the lines, and no line is ever
    written to a stream closed since."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def configure(
    *, json_output: bool | None = None, level: int = logging.INFO, stream: TextIO | None = None
) -> None:
    """Set up structlog and route stdlib logging (the Temporal SDK's) through it.

    Writes to `stream` (stderr): JSON lines unless it is a terminal (or as `json_output` says).
    """
    REDACTOR.secrets = Redactor.from_environment().secrets
    out: TextIO | CurrentStderr = stream or CurrentStderr()
    if json_output is None:
        json_output = not out.isatty()
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json_output
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Any] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        REDACTOR,
    ]
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, *shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=out),  # type: ignore[arg-type]  # a text stream
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)  # the SDK's warnings and errors, not its chatter
    _forward_core_logs()
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # tracebacks included
        server = logging.getLogger(name)
        server.handlers[:] = []
        server.propagate = True


# Where the Temporal SDK core's own (Rust) log lines go: into the same handler, as JSON.
CORE_LOGGER = "temporalio.core"


def _forward_core_logs() -> None:
    """Send the SDK core's log lines through Python logging (and so the redactor).

    Left alone, the core writes its own text lines to stderr. This sets the process's default
    Temporal runtime, so it must run before the first client connects.
    """
    from temporalio.runtime import (
        LogForwardingConfig,
        LoggingConfig,
        Runtime,
        TelemetryConfig,
        TelemetryFilter,
    )

    forwarding = LogForwardingConfig(logger=logging.getLogger(CORE_LOGGER))
    telemetry = TelemetryConfig(
        logging=LoggingConfig(
            filter=TelemetryFilter(core_level="WARN", other_level="ERROR"), forwarding=forwarding
        )
    )
    Runtime.set_default(Runtime(telemetry=telemetry), error_if_already_set=False)

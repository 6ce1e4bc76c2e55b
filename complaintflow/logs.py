"""Logging for long-running processes: structlog, JSON in production, readable in a terminal.

Configured once at the edge (the worker command); code calls structlog.get_logger() and logs
stable dotted event names with key-value context. A processor removes secrets.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

SECRET_KEYS = ("secret", "token", "api_key", "password", "authorization", "signature")


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Replace the values of keys that name secrets."""
    for key in list(event):
        if any(word in key.lower() for word in SECRET_KEYS):
            event[key] = "[redacted]"
    return event


def configure(*, json_output: bool | None = None, level: int = logging.INFO) -> None:
    """Set up structlog; JSON lines unless writing to a terminal (or as `json_output` says)."""
    if json_output is None:
        json_output = not sys.stderr.isatty()
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json_output
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )

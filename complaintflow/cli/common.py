"""What every command shares: exit codes, printing, the decision store and running a
Temporal client call with its failures turned into messages."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TextIO

from complaintflow.errors import CommandFailed, UsageError

OK, FAILED, USAGE = 0, 1, 2

_USED_TEMPORAL = False


def used_temporal() -> bool:
    """Whether this process has run a Temporal client call (see `entry_point`)."""
    return _USED_TEMPORAL


def run_temporal(run: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run a Temporal client call; turn connection and update failures into messages."""
    from temporalio.client import RPCError, WorkflowUpdateFailedError
    from temporalio.service import RPCStatusCode

    global _USED_TEMPORAL  # noqa: PLW0603 - one flag for the process's exit path
    _USED_TEMPORAL = True
    try:
        return asyncio.run(run())
    except WorkflowUpdateFailedError as exc:
        raise CommandFailed(getattr(exc.cause, "message", None) or str(exc)) from None
    except LookupError as exc:  # no such case, or a closed one
        raise CommandFailed(str(exc)) from None
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            raise CommandFailed(f"no such case: {exc.message}") from None
        raise CommandFailed(f"Temporal said: {exc.message}") from None
    except RuntimeError as exc:  # connection failures surface as RuntimeError
        raise CommandFailed(
            f"cannot reach Temporal ({exc}); set TEMPORAL_ADDRESS or TEMPORAL_PROFILE"
        ) from None


def print_text(text: str, stream: TextIO | None = None) -> int:
    print(text, file=stream or sys.stdout)
    return OK


def positive(text: str) -> int:
    """An argparse type: a whole number >= 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


def open_store(url: str | None) -> Any:
    """The decision store at `url` (None: the environment's), its failures as messages."""
    from complaintflow.store import StoreError
    from complaintflow.store import open_store as open_decision_store

    try:
        return open_decision_store(url)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except (StoreError, OSError) as exc:
        raise CommandFailed(f"cannot open the decision store: {exc}") from None
    except Exception as exc:  # sqlite3 / psycopg connection errors
        raise CommandFailed(f"cannot open the decision store: {exc}") from None


def read_store(url: str | None, read: Callable[[Any], Awaitable[list[dict[str, Any]]]]) -> Any:
    """Open the store, read from it with `read(store)`, close it."""
    store = open_store(url)

    async def run() -> list[dict[str, Any]]:
        try:
            return await read(store)
        finally:
            await store.close()

    return asyncio.run(run())

"""The embedded SQLite store: one file, WAL, shared safely by processes on one machine.

Writers take the database lock at BEGIN (IMMEDIATE) and wait up to `busy_timeout` for it;
a commit is fsync'd (synchronous=FULL) before the store says a row is written.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path
from typing import Any

from complaintflow.store.base import Backend, StoreError, StoreRejected, StoreUnavailable
from complaintflow.walfile import write_ahead_log

BUSY_TIMEOUT_MS = 10_000
# Free space below which the disk counts as full: a transaction rolled back (the probe)
# writes nothing to disk, so the disk itself is asked.
MIN_FREE_BYTES = 1024 * 1024


class SqliteBackend(Backend):
    def __init__(self, path: str) -> None:
        self.url = f"sqlite:///{path}"
        self._path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
        )
        self._connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        write_ahead_log(self._connection, BUSY_TIMEOUT_MS / 1000)
        self._connection.execute("PRAGMA synchronous = FULL")

    def sql(self, statement: str) -> str:
        return statement

    def begin(self) -> Any:
        cursor = self._connection.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        return cursor

    def commit(self) -> None:
        self._connection.execute("COMMIT")

    def rollback(self) -> None:
        if self._connection.in_transaction:
            self._connection.execute("ROLLBACK")

    def cursor(self) -> Any:
        return self._connection.cursor()

    def lock_migrations(self, cursor: Any) -> None:
        """BEGIN IMMEDIATE already holds the one write lock."""

    def probe(self) -> None:
        if self._path != ":memory:":
            disk = os.statvfs(Path(self._path).resolve().parent)
            if disk.f_bavail * disk.f_frsize < MIN_FREE_BYTES:
                raise OSError(errno.ENOSPC, "no room left on the store's disk", self._path)
        super().probe()

    def classify(self, error: Exception) -> StoreError:
        if isinstance(error, sqlite3.OperationalError | OSError):  # locked, full, I/O
            return StoreUnavailable(f"the SQLite store did not take the write: {error}")
        return StoreRejected(f"the SQLite store refused the entry: {error}")

    def close(self) -> None:
        self._connection.close()

"""The PostgreSQL store (psycopg 3): for replicas on several machines.

A lost connection is answered as unavailable and reconnected on the next call.
"""

from __future__ import annotations

from typing import Any

import psycopg

from complaintflow.store.base import Backend, StoreError, StoreRejected, StoreUnavailable

MIGRATION_LOCK = 7_346_118  # pg_advisory_xact_lock key: start-ups migrate one at a time


class PostgresBackend(Backend):
    def __init__(self, url: str) -> None:
        self.url = url
        self._connection: psycopg.Connection[Any] | None = None
        self._connect()

    def _connect(self) -> psycopg.Connection[Any]:
        if self._connection is None or self._connection.closed:
            self._connection = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        return self._connection

    def sql(self, statement: str) -> str:
        return statement.replace("?", "%s")

    def begin(self) -> Any:
        cursor = self._connect().cursor()
        cursor.execute("BEGIN")
        return cursor

    def commit(self) -> None:
        self._connect().execute("COMMIT")

    def rollback(self) -> None:
        connection = self._connection
        if connection is None or connection.closed:
            return
        try:
            connection.execute("ROLLBACK")
        except psycopg.Error:
            connection.close()

    def cursor(self) -> Any:
        return self._connect().cursor()

    def lock_migrations(self, cursor: Any) -> None:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))

    def classify(self, error: Exception) -> StoreError:
        if isinstance(error, psycopg.OperationalError | OSError):
            if self._connection is not None:
                self._connection.close()  # reconnect on the next call
            return StoreUnavailable(f"PostgreSQL did not take the write: {error}")
        return StoreRejected(f"PostgreSQL refused the entry: {error}")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()

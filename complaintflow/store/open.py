"""Which store a process uses: COMPLAINTFLOW_DATABASE_URL, else SQLite in the state dir.

`sqlite:///PATH` (or a bare path) is SQLite; `postgresql://...` is PostgreSQL.
"""

from __future__ import annotations

import os
from pathlib import Path

from complaintflow.store.base import Backend, DecisionStore

DATABASE_URL = "COMPLAINTFLOW_DATABASE_URL"
DEFAULT_SQLITE = Path(".complaintflow/complaintflow.db")


def default_url() -> str:
    return os.environ.get(DATABASE_URL) or f"sqlite:///{DEFAULT_SQLITE}"


def open_store(url: str | None = None) -> DecisionStore:
    """Connect to the store at `url` (default: the environment) and bring its schema up."""
    url = url or default_url()
    if url.startswith(("postgresql://", "postgres://")):
        from complaintflow.store.postgres import PostgresBackend

        backend: Backend = PostgresBackend(url)
    else:
        from complaintflow.store.sqlite import SqliteBackend

        path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url
        if "://" in path:
            raise ValueError(
                f"the database URL {url!r} is neither sqlite:///PATH nor postgresql://"
            )
        backend = SqliteBackend(path)
    backend.migrate()
    return DecisionStore(backend)

"""Store tests run against SQLite and a real PostgreSQL cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.postgres import fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty store of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'complaintflow.db'}"
    return fresh_database(request.getfixturevalue("postgres_cluster"))

"""PostgreSQL for tests: a session-wide throwaway cluster and a fresh database per test.

Tests skip, saying why, only when the PostgreSQL binaries are not installed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from complaintflow.devkit.pgcluster import PostgresMissing, cluster, fresh_database

__all__ = ["fresh_database", "postgres_cluster"]


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[str]:
    try:
        with cluster() as url:
            yield url
    except PostgresMissing as exc:
        pytest.skip(f"{exc}; .ci/run installs it")

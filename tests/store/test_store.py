"""The decision store: one row per mention whatever the replicas and redeliveries, atomic
writes, failures that say whether a retry can help; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from complaintflow.store import Entry, StoreUnavailable, open_store
from complaintflow.store.migrations import LATEST


def remark(n: int | str, platform: str = "x", case: str | None = None) -> Entry:
    return Entry(
        platform=platform,
        mention_id=str(n),
        policy="acme",
        route="respond" if case else None,
        score=0.1,
        case_id=case,
        decided_at=f"2026-11-30T10:00:{int(n) % 60 if str(n).isdigit() else 0:02d}+00:00",
        record={"id": str(n), "platform": platform, "route": "respond" if case else None},
    )


async def test_replicas_and_redeliveries_write_one_row_per_mention(store_url: str) -> None:
    replicas = [open_store(store_url), open_store(store_url)]
    try:
        deliveries = [(replicas[n % 2], remark(n % 40)) for n in range(400)]
        results = await asyncio.gather(*(store.record(entry) for store, entry in deliveries))
        assert results.count(True) == 40, "each mention is new exactly once"
        assert await replicas[0].count() == 40
        assert sorted(int(r["id"]) for r in await replicas[1].remarks()) == list(range(40))
        assert await replicas[0].record(remark(3, platform="facebook")) is True, "another post"
    finally:
        for store in replicas:
            await store.close()


async def test_a_redelivered_complaint_finds_its_case(store_url: str) -> None:
    store = open_store(store_url)
    try:
        assert await store.case_for("x", "77", policy="acme") is None
        assert await store.record(remark(77, case="case-x-77")) is True
        assert await store.case_for("x", "77", policy="acme") == "case-x-77"
        assert await store.case_for("facebook", "77", policy="acme") is None
        assert await store.remarks() == [], "a case is not a throwaway remark"
        (exported,) = await store.decisions()
        assert exported["case"] == "case-x-77"
    finally:
        await store.close()


async def test_a_mention_is_one_row_per_brand_and_a_redelivery_to_either_is_known(
    store_url: str,
) -> None:
    """The same post delivered to two brands of one deployment is a decision of each; a
    redelivery to either brand is recognised as one (the key was the post alone)."""
    replicas = [open_store(store_url), open_store(store_url)]
    try:
        acme = remark(88, case="case-x-88@acme")
        globex = dataclasses.replace(acme, policy="globex", case_id="case-x-88@globex")
        firsts = await asyncio.gather(replicas[0].record(acme), replicas[1].record(globex))
        assert list(firsts) == [True, True]
        again = [await replicas[n % 2].record(e) for n, e in enumerate([acme, globex] * 2)]
        assert again == [False] * 4, "redeliveries, to either brand, on either replica"
        assert await replicas[0].case_for("x", "88", policy="acme") == "case-x-88@acme"
        assert await replicas[1].case_for("x", "88", policy="globex") == "case-x-88@globex"
        assert await replicas[0].case_for("x", "88", policy="initech") is None
        assert await replicas[0].count() == 2
    finally:
        for store in replicas:
            await store.close()


async def test_a_store_keyed_by_mention_alone_is_migrated_and_keeps_its_rows(
    store_url: str,
) -> None:
    """A store written before the brand was in the key keeps every row (each a redelivery
    for its own brand) and now takes the same post for another brand."""
    from complaintflow.store.migrations import MIGRATIONS

    if store_url.startswith("sqlite:///"):
        import sqlite3

        old: Any = sqlite3.connect(store_url.removeprefix("sqlite:///"))
    else:
        old = psycopg.connect(store_url, autocommit=True)
    old.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
    for version, statements in MIGRATIONS[:2]:  # what the release before this one created
        for statement in statements:
            old.execute(statement)
        old.execute(f"INSERT INTO schema_migrations VALUES ({version}, 'then')")
    old.execute(
        "INSERT INTO decisions VALUES ('x:9', 'x', '9', 'acme', 'respond', 0.9,"
        " 'case-x-9@acme', '2026-11-30T10:00:00+00:00', '{\"id\": \"9\"}')"
    )
    old.commit()
    old.close()
    store = open_store(store_url)
    try:
        assert await store.case_for("x", "9", policy="acme") == "case-x-9@acme"
        assert await store.record(remark(9, case="case-x-9@acme")) is False, "a redelivery"
        other = dataclasses.replace(remark(9, case="case-x-9@globex"), policy="globex")
        assert await store.record(other) is True, "the same post, for another brand"
        assert await store.count() == 2
    finally:
        await store.close()


async def test_ids_no_column_can_hold_are_stored_escaped_with_the_rest_of_the_batch(
    store_url: str,
) -> None:
    store = open_store(store_url)
    try:
        odd = ["bad\ud800id", "nul\x00id"]
        entries = [remark(1), *(remark(o) for o in odd), remark(2)]
        assert await asyncio.gather(*(store.record(e) for e in entries)) == [True] * 4
        assert [await store.record(remark(o)) for o in odd] == [False, False], "redeliveries"
        assert await store.count() == 4
    finally:
        await store.close()


async def test_migrations_run_once_however_many_processes_start(store_url: str) -> None:
    stores = await asyncio.gather(*(asyncio.to_thread(open_store, store_url) for _ in range(4)))
    try:
        versions = await stores[0]._run(
            stores[0].backend.query, "SELECT version FROM schema_migrations"
        )
        assert sorted(row[0] for row in versions) == list(range(1, LATEST + 1)), "each once"
    finally:
        for store in stores:
            await store.close()


async def test_replicas_opening_a_new_sqlite_store_together_all_start(tmp_path: object) -> None:
    """Switching a new file to WAL is refused at once while another opener holds the lock;
    replicas started together must wait for it, not fail (it did in about 1 round in 10)."""
    for round_ in range(60):
        url = f"sqlite:///{tmp_path}/new-{round_}.db"
        opened = await asyncio.gather(
            *(asyncio.to_thread(open_store, url) for _ in range(4)), return_exceptions=True
        )
        failures = [o for o in opened if isinstance(o, BaseException)]
        for store in opened:
            if not isinstance(store, BaseException):
                await store.close()
        assert failures == [], f"round {round_}: {failures}"


async def test_a_full_sqlite_database_answers_unavailable_and_keeps_nothing_half_written(
    tmp_path: object,
) -> None:
    store = open_store(f"sqlite:///{tmp_path}/full.db")
    try:
        await store.record(remark(0))
        connection = store.backend._connection  # type: ignore[attr-defined]
        connection.execute("VACUUM")  # no free pages left by the migrations' rebuilt table
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages}")  # SQLITE_FULL from now on
        big = [
            Entry(**{**remark(n).__dict__, "record": {"id": str(n), "pad": "x" * 4000}})
            for n in range(1, 30)
        ]
        outcomes = await asyncio.gather(*(store.record(e) for e in big), return_exceptions=True)
        assert all(isinstance(o, StoreUnavailable) for o in outcomes), outcomes
        assert await store.count() == 1, "no row of the failed batch"
        connection.execute("PRAGMA max_page_count = 1073741823")
        assert await store.record(big[0]) is True, "the retry after room is made is kept"
    finally:
        await store.close()


async def test_a_lost_postgresql_connection_is_unavailable_then_reconnected(
    postgres_cluster: str,
) -> None:
    from tests.support.postgres import fresh_database

    url = fresh_database(postgres_cluster)
    store = open_store(url)
    try:
        assert await store.record(remark(1)) is True
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        with pytest.raises(StoreUnavailable):
            await store.record(remark(2))
        assert await store.record(remark(2)) is True, "the retry reconnects"
        assert await store.count() == 2
    finally:
        await store.close()


async def test_a_database_from_an_older_version_is_migrated_and_keeps_its_rows(
    tmp_path: object,
) -> None:
    import sqlite3

    from complaintflow.store.migrations import MIGRATIONS

    path = f"{tmp_path}/old.db"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
    for statement in MIGRATIONS[0][1]:  # what the first release created
        old.execute(statement)
    old.execute("INSERT INTO schema_migrations VALUES (1, 'then')")
    old.execute(
        "INSERT INTO decisions VALUES ('x:1', 'x', '1', 'acme', NULL, 0.1, NULL, 't', ?)",
        ('{"id": "1"}',),
    )
    old.commit()
    old.close()
    store = open_store(f"sqlite:///{path}")
    try:
        assert await store.remarks() == [{"id": "1"}]
        check = await store.check_spike(
            "acme",
            window=timedelta(minutes=15),
            baseline=timedelta(days=7),
            factor=3.0,
            minimum=1,
        )
        assert check.complaints == 0 and not check.alert, "the spikes table is there now"
    finally:
        await store.close()

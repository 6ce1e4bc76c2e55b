"""Labels in the decision store: one per brand and mention however many replicas and
redeliveries write it, on SQLite and PostgreSQL, and in stores made before labels existed."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg

from complaintflow.learning.labels import Label
from complaintflow.store import open_store
from complaintflow.store.migrations import MIGRATIONS


def label(n: int, *, value: int = 0, source: str = "dismiss", by: str = "dana") -> Label:
    return Label(
        policy="acme",
        platform="x",
        mention_id=str(n),
        text=f"obsessed with this colour {n} 🔥",
        label=value,
        source=source,
        by=by,
        time=f"2026-11-30T10:00:{n % 60:02d}+00:00",
        case_id=f"case-x-{n}@acme",
    )


async def test_replicas_redeliveries_and_racing_decisions_keep_one_label_per_mention(
    store_url: str,
) -> None:
    replicas = [open_store(store_url), open_store(store_url)]
    try:
        writes = [
            replicas[n % 2].record_label(
                label(n % 20, value=n % 2, source="approve" if n % 2 else "dismiss")
            )
            for n in range(200)
        ]
        results = await asyncio.gather(*writes)
        assert results.count(True) == 20, "each mention is labelled exactly once"
        kept = await replicas[1].labels("acme")
        assert sorted(int(k.mention_id) for k in kept) == list(range(20))
        assert await replicas[0].labels("other-brand") == []
        first = kept[0]
        assert (first.text, first.by, first.case_id) == (
            "obsessed with this colour 0 🔥",
            "dana",
            "case-x-0@acme",
        )
    finally:
        for store in replicas:
            await store.close()


async def test_a_store_from_before_labels_is_migrated_and_takes_them(store_url: str) -> None:
    url = store_url
    if url.startswith("sqlite"):
        import sqlite3

        old: Any = sqlite3.connect(url.removeprefix("sqlite:///"))
    else:
        old = psycopg.connect(url, autocommit=False)
    cursor = old.cursor()
    cursor.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
    for version, statements in MIGRATIONS[:3]:  # the store as the release before labels left it
        for statement in statements:
            cursor.execute(statement)
        cursor.execute(f"INSERT INTO schema_migrations VALUES ({version}, 'then')")
    old.commit()
    old.close()
    store = open_store(url)
    try:
        assert await store.record_label(label(7)) is True
        assert await store.record_label(label(7, value=1, source="approve")) is False
        [kept] = await store.labels("acme")
        assert (kept.label, kept.source) == (0, "dismiss"), "the first decision is the label"
    finally:
        await store.close()

"""Cases by short reference and by author in the decision store, on SQLite and PostgreSQL: what
ingest looks up when a customer quotes `{case.ref}` or writes privately."""

from __future__ import annotations

from complaintflow.rules.caseref import case_ref
from complaintflow.store import open_store


async def test_a_case_is_found_by_its_reference_and_by_its_author(store_url: str) -> None:
    store = open_store(store_url)
    try:
        for n, author in ((1, "77"), (2, "88"), (3, "77")):
            case_id = f"case-x-{n}@acme"
            await store.record_case(
                policy="acme",
                ref=case_ref("Acme", case_id),
                case_id=case_id,
                platform="x",
                author_id=author,
            )
        await store.record_case(  # another brand's case for the same customer
            policy="other",
            ref=case_ref("Other", "case-x-9@other"),
            case_id="case-x-9@other",
            platform="x",
            author_id="77",
        )
        assert await store.case_for_ref(case_ref("Acme", "case-x-2@acme"), policy="acme") == (
            "case-x-2@acme"
        )
        assert await store.case_for_ref(case_ref("Acme", "case-x-2@acme"), policy="other") is None
        assert await store.case_for_ref("A-000000", policy="acme") is None
        assert await store.cases_of_author("x", "77", policy="acme") == [
            "case-x-3@acme",
            "case-x-1@acme",
        ]
        assert await store.cases_of_author("facebook", "77", policy="acme") == []
    finally:
        await store.close()


async def test_a_redelivery_or_a_shared_reference_keeps_the_latest_case(store_url: str) -> None:
    store = open_store(store_url)
    try:
        for case_id in ("case-x-1@acme", "case-x-1@acme", "case-x-2@acme"):
            await store.record_case(
                policy="acme", ref="A-SHARED", case_id=case_id, platform="x", author_id="77"
            )
        assert await store.case_for_ref("A-SHARED", policy="acme") == "case-x-2@acme"
        assert await store.cases_of_author("x", "77", policy="acme") == ["case-x-2@acme"]
        # Text no column can hold (a lone surrogate, NUL) is stored escaped, not refused.
        await store.record_case(
            policy="acme", ref="A-\ud800\x00", case_id="c", platform="x", author_id="\x00"
        )
        assert await store.cases_of_author("x", "\\x00", policy="acme") == ["c"]
    finally:
        await store.close()

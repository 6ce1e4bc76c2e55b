"""Case ids: one case per thread and brand, and two different threads never share one."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from complaintflow.client.cases import case_key
from tests.support.cases import complaint

threads = st.text(min_size=1, max_size=60)
brands = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,20}", fullmatch=True)


def test_a_plain_thread_reads_as_itself_with_its_brand() -> None:
    """Ids a platform sends are kept as they are, followed by the brand's policy name."""
    assert case_key(complaint(thread_id="1880"), "acme") == "case-x-1880@acme"


@given(threads, threads, brands, brands)
def test_different_threads_or_brands_never_share_a_case(
    one: str, other: str, brand: str, other_brand: str
) -> None:
    """Cleaning an id for Temporal never makes two threads (or two brands) one case."""
    first = case_key(complaint(thread_id=one), brand)
    second = case_key(complaint(thread_id=other), other_brand)
    assert (first == second) == (one == other and brand == other_brand)


@given(threads, brands)
def test_a_case_id_is_short_and_plain(thread: str, brand: str) -> None:
    """Whatever a thread id holds, the case id stays short and in plain characters."""
    key = case_key(complaint(thread_id=thread), brand)
    assert len(key) < 300 and key.isascii() and key.isprintable()

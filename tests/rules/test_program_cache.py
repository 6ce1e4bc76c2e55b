"""The compiled-program cache is bounded: a worker that sees many policy versions keeps at
most a fixed number, drops the least recently used, and recompiles one it dropped."""

from __future__ import annotations

from complaintflow import compile_policy
from complaintflow.rules import compiler
from complaintflow.rules.compiler import programs_for
from complaintflow.rules.lru import LruCache
from complaintflow.rules.mention import Mention
from complaintflow.rules.triage import triage
from tests.support.policies import small

ANGRY = "this is broken and I want a refund, terrible service"


def test_lru_keeps_the_most_recently_used() -> None:
    cache: LruCache[str, int] = LruCache(maxsize=2)
    cache["a"] = 1
    cache["b"] = 2
    assert cache.get("a") == 1  # "a" is now the most recent
    cache["c"] = 3
    assert len(cache) == 2
    assert "b" not in cache
    assert (cache.get("a"), cache.get("c")) == (1, 3)


def test_many_policy_versions_stay_within_the_bound_and_still_decide() -> None:
    cache = compiler._PROGRAMS
    bound = cache.maxsize
    versions = [
        compile_policy(small("weight: 0.3}", f"weight: 0.{n:03d}}}")) for n in range(bound + 5)
    ]
    assert len({v.content_hash for v in versions}) == bound + 5
    assert len(cache) <= bound
    oldest = versions[0]
    assert oldest.content_hash not in cache  # dropped: the least recently used
    # A case pinned to a dropped version still decides: its programs are compiled again.
    again = programs_for(oldest)
    assert oldest.content_hash in cache
    assert [s.name for s in again.signals] == [s.name for s in oldest.signals]
    decision = triage(oldest, Mention(id="1", text=ANGRY))
    assert (decision.held, decision.route) == (("negative_tone", "problem_words"), "escalated")
    assert len(cache) <= bound

"""Quality floors of language identification and the unread route, on data not tuned on.

The airline tweets are English; bench/data/multilingual_mentions.jsonl holds hand-written
Spanish, Portuguese, French and German complaints and remarks. `python bench/language.py`
prints the same measures with timings.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from complaintflow.learning.files import read_mentions
from complaintflow.rules.compiler import load_policy
from complaintflow.rules.language import clean, identify
from complaintflow.rules.mention import Mention
from complaintflow.rules.triage import Triage
from tests.support.paths import AIRLINE, EXAMPLE_POLICY, ROOT

OTHERS = ROOT / "bench" / "data" / "multilingual_mentions.jsonl"


def others() -> list[tuple[Mention, str, bool]]:
    rows = [json.loads(line) for line in OTHERS.read_text(encoding="utf-8").splitlines()]
    return [(Mention(id=r["id"], text=r["text"]), r["written_in"], r["complaint"]) for r in rows]


def english() -> list[Mention]:
    return list(read_mentions(Path(AIRLINE), text_column="text", id_column="tweet_id"))


def test_the_non_english_data_covers_four_languages_both_ways() -> None:
    rows = others()
    assert len(rows) >= 200
    for language in ("es", "pt", "fr", "de"):
        kinds = {complaint for _, written, complaint in rows if written == language}
        assert kinds == {True, False}, language


@pytest.mark.skipif(not AIRLINE.exists(), reason="shared airline data not present")
def test_identification_is_right_on_95_percent_of_tweets_of_five_words_or_more() -> None:
    labelled = [(m, "en") for m in english()] + [(m, lang) for m, lang, _ in others()]
    long = [(m, lang) for m, lang in labelled if len(clean(m.text).split()) >= 5]
    right = sum(identify(m.text)[0] == lang for m, lang in long)
    assert right / len(long) >= 0.95
    foreign = [(m, lang) for m, lang in long if lang != "en"]
    assert sum(identify(m.text)[0] == lang for m, lang in foreign) / len(foreign) >= 0.95


@pytest.mark.skipif(not AIRLINE.exists(), reason="shared airline data not present")
@pytest.mark.heavy
def test_mixed_stream_bins_no_non_english_complaint_and_few_english_posts_go_to_a_person() -> None:
    triage = Triage(load_policy(EXAMPLE_POLICY))
    binned = [m.id for m, _, complaint in others() if complaint and not triage.decide(m).route]
    assert binned == []
    airline = english()
    to_a_person = sum(triage.decide(m).route == "unread" for m in airline)
    assert to_a_person / len(airline) < 0.02


@pytest.mark.skipif(not AIRLINE.exists(), reason="shared airline data not present")
def test_the_plain_english_shortcut_agrees_with_the_model_and_never_takes_other_languages() -> None:
    """The function-word shortcut answers only where the model would say English anyway."""
    from complaintflow.rules import language

    def shortcut(text: str) -> bool:
        return language._plainly_english(clean(text).split())

    taken = [m.text for m in english() if shortcut(m.text)]
    assert len(taken) > 5_000, "it answers for most English tweets, or it saves nothing"
    model = language._identifier()
    disagree = [t for t in taken if model.classify(clean(t))[0] != "en"]
    assert len(disagree) / len(taken) < 0.001, disagree[:5]
    assert [m.text for m, _, _ in others() if shortcut(m.text)] == []

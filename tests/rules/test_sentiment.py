"""Sentiment is VADER's compound score: the faster path for posts without emoji changes none."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from complaintflow.rules.sentiment import sentiment
from tests.support.paths import AIRLINE

XCI = Path(AIRLINE).parent.parent / "xci" / "train.csv"
STOCK = SentimentIntensityAnalyzer()


def _texts(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as f:
        return [row["text"] for row in csv.DictReader(f)]


@pytest.mark.parametrize("path", [AIRLINE, XCI], ids=["airline", "xci"])
def test_every_real_tweet_scores_as_stock_vader_scores_it(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path} is not here")
    texts = _texts(path)
    assert len(texts) > 1000
    differ = [t for t in texts if sentiment(t) != STOCK.polarity_scores(t)["compound"]]
    assert differ == []
    assert sum(1 for t in texts if sentiment(t) != 0.0) > len(texts) / 2


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["not", "very", "good", "bad", "kind", "of", "but", "never", "😡", "😀", "!!", "LOVE"]
        )
        | st.text(max_size=8),
        max_size=20,
    ).map(" ".join)
)
def test_any_text_scores_as_stock_vader_scores_it(text: str) -> None:
    assert sentiment(text) == STOCK.polarity_scores(text)["compound"]

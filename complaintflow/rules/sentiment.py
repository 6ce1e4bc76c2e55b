"""Sentiment: VADER's compound score, made for social media text.

Computed by complaintflow.rules.vader (VADER's scores, faster); the lexicon is read once, when
first needed, so importing this module reads nothing (workflows import it).
"""

from __future__ import annotations

import functools
from typing import Any


def sentiment(text: str) -> float:
    """VADER compound sentiment of `text`, from -1.0 (most negative) to 1.0."""
    return float(_analyzer().polarity_scores(text)["compound"])


@functools.cache
def _analyzer() -> Any:
    from complaintflow.rules.vader import Analyzer

    return Analyzer()

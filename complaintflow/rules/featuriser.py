"""How a text becomes the features a classifier weighs: tokens, word and character n-grams,
and the tone word; shared by inference (classifiers) and training."""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Sequence
from typing import Any

_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"@\w+")
_TOKEN = re.compile(r"[a-z0-9']+|[!?]")


def tokens(text: str) -> list[str]:
    """Lowercase words, with links as `url`, @handles as `atuser`, and ! and ? kept."""
    lowered = text.lower()
    if "http" in lowered or "www." in lowered:
        lowered = _URL.sub(" url ", lowered)
    if "@" in lowered:
        lowered = _HANDLE.sub(" atuser ", lowered)
    return _TOKEN.findall(lowered)


def word_features(words: Sequence[str], longest: int) -> dict[str, int]:
    """Counts of word n-grams of 1..`longest` words."""
    grams = list(words)
    if longest >= 2:
        grams += [f"{a} {b}" for a, b in itertools.pairwise(words)]
    for n in range(3, longest + 1):
        grams += [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
    counts = dict.fromkeys(grams, 1)
    if len(counts) < len(grams):  # some n-gram repeats: count them
        counts = {}
        for gram in grams:
            counts[gram] = counts.get(gram, 0) + 1
    return counts


def char_grams(word: str, shortest: int, longest: int) -> dict[str, int]:
    """Counts of character n-grams of one word padded with a space on each side."""
    counts: dict[str, int] = {}
    padded = f" {word} "
    size = len(padded)
    for n in range(shortest, longest + 1):
        for i in range(size - n + 1):
            gram = padded[i : i + n]
            counts[gram] = counts.get(gram, 0) + 1
    return counts


@dataclasses.dataclass(frozen=True)
class Featuriser:
    """Word 1..word_ngrams and character char_min..char_max n-gram blocks, tf-idf weighted.

    The word block is L2-normed. The character block is the sum of each word's own tf-idf
    vector, scaled by the root of the sum of their squared norms: so a word's part can be
    computed once and remembered, which keeps inference fast in pure Python. With
    `tone_word`, the tone of the text (VADER's compound score, given by the caller) is one more
    word at its end: the model learns how tone and words combine.
    """

    word_ngrams: int = 2
    char_min: int = 2
    char_max: int = 5
    tone_word: bool = False

    def blocks(self, text: str, tone: float = 0.0) -> tuple[dict[str, int], list[str]]:
        """The word n-gram counts and the words (whose character n-grams make block two)."""
        words = tokens(text)
        if self.tone_word:
            words.append(tone_word(tone))
        return word_features(words, self.word_ngrams), words

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dataclasses.asdict(self)
        if not self.tone_word:
            del out["tone_word"]
        return out


TONE_WORDS = {
    "zzpositive": "(positive tone)",
    "zznegative": "(negative tone)",
    "zzneutral": "(neutral tone)",
}


def shown_gram(gram: str) -> str:
    """An n-gram as people read it (the tone word named, not spelt)."""
    for word, shown in TONE_WORDS.items():
        gram = gram.replace(word, shown)
    return gram


def tone_word(tone: float) -> str:
    """The word standing for a text's tone (sentiment -1..1; the policies' usual cut-offs)."""
    if tone >= 0.5:
        return "zzpositive"
    if tone <= -0.3:
        return "zznegative"
    return "zzneutral"

"""VADER's sentiment analyser, computing VADER's own scores with less work.

VADER re-lowercases every word of a post each time it looks back from a sentiment word, and
copies a post one character at a time to spell out its emoji. This analyser skips the copy
for posts without emoji and lowercases only the words it reads; a word outside the lexicon
(most of them) scores 0 without the call that would find that out, and the "but" rule runs
only on posts that have one. Its scores are VADER's: tests compare them on every airline and
X-CI tweet and on generated text.
"""

from __future__ import annotations

import string

from vaderSentiment import vaderSentiment as vader

_NEGATIONS = frozenset(vader.NEGATE)
_BOOSTERS: dict[str, float] = vader.BOOSTER_DICT
_IDIOMS: dict[str, float] = vader.SPECIAL_CASES
_N_SCALAR: float = vader.N_SCALAR
_PUNCTUATION = string.punctuation


class _SentiText(vader.SentiText):  # type: ignore[misc]
    """vader.SentiText of a str, built in two passes instead of a call per word."""

    def __init__(self, text: str) -> None:
        self.text = text
        # A word loses its surrounding punctuation unless that leaves 2 letters or fewer
        # (an emoticon such as ":)"): vader.SentiText._strip_punc_if_word.
        words = [w if len(s := w.strip(_PUNCTUATION)) <= 2 else s for w in text.split()]
        self.words_and_emoticons = words
        capitals = sum(map(str.isupper, words))  # vader.allcap_differential
        self.is_cap_diff = 0 < len(words) - capitals < len(words)


def _negated(word: str) -> bool:
    """vader.negated([word])."""
    lowered = word.lower()
    return lowered in _NEGATIONS or "n't" in lowered


class Analyzer(vader.SentimentIntensityAnalyzer):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.emoji_characters = frozenset(self.emojis)

    def polarity_scores(self, text: str) -> dict[str, float]:
        if not self.emoji_characters.isdisjoint(text):
            return super().polarity_scores(text)  # type: ignore[no-any-return]
        text = text.strip()  # what the emoji pass makes of a post without emoji
        sentitext = _SentiText(text)
        words = sentitext.words_and_emoticons
        lexicon = self.lexicon
        last = len(words) - 1
        sentiments: list[float] = []
        lowered_words = []
        for i, item in enumerate(words):
            lowered = item.lower()
            lowered_words.append(lowered)
            # A booster, "kind of", or (most words) one outside the lexicon scores 0: what
            # sentiment_valence would append for it.
            if (
                lowered in _BOOSTERS
                or (i < last and lowered == "kind" and words[i + 1].lower() == "of")
                or lowered not in lexicon
            ):
                sentiments.append(0)
            else:
                sentiments = self.sentiment_valence(0, sentitext, item, i, sentiments)
        if "but" in lowered_words:  # _but_check changes nothing without one
            sentiments = self._but_check(words, sentiments)
        return self.score_valence(sentiments, text)  # type: ignore[no-any-return]

    @staticmethod
    def _negation_check(valence: float, words: list[str], start_i: int, i: int) -> float:
        negated = _negated(words[i - (start_i + 1)])
        if start_i == 0:
            return valence * _N_SCALAR if negated else valence
        one, two = words[i - 1].lower(), words[i - 2].lower()
        if start_i == 1:
            if two == "never" and one in ("so", "this"):
                return valence * 1.25
            if two == "without" and one == "doubt":
                return valence
            return valence * _N_SCALAR if negated else valence
        three = words[i - 3].lower()
        if (three == "never" and two in ("so", "this")) or one in ("so", "this"):
            return valence * 1.25
        if three == "without" and (two == "doubt" or one == "doubt"):
            return valence
        return valence * _N_SCALAR if negated else valence

    @staticmethod
    def _special_idioms_check(valence: float, words: list[str], i: int) -> float:
        zero, one = words[i].lower(), words[i - 1].lower()
        two, three = words[i - 2].lower(), words[i - 3].lower()
        twoone, threetwo, threetwoone = f"{two} {one}", f"{three} {two}", f"{three} {two} {one}"
        for sequence in (f"{one} {zero}", f"{two} {one} {zero}", twoone, threetwoone, threetwo):
            if sequence in _IDIOMS:
                valence = _IDIOMS[sequence]
                break
        valence = _idioms_after(valence, words, i, zero)
        for gram in (threetwoone, threetwo, twoone):
            if gram in _BOOSTERS:
                valence = valence + _BOOSTERS[gram]
        return valence


def _idioms_after(valence: float, words: list[str], i: int, zero: str) -> float:
    """The idioms starting at word `i` (lowercased `zero`): the last one found wins."""
    if len(words) - 1 > i:
        after = words[i + 1].lower()
        if f"{zero} {after}" in _IDIOMS:
            valence = _IDIOMS[f"{zero} {after}"]
        if len(words) - 1 > i + 1:
            longer = f"{zero} {after} {words[i + 2].lower()}"
            if longer in _IDIOMS:
                valence = _IDIOMS[longer]
    return valence

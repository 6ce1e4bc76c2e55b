"""VADER's sentiment analyser, computing VADER's own scores with less work.

VADER re-lowercases every word of a post each time it looks back from a sentiment word, and
copies a post one character at a time to spell out its emoji. This analyser skips the copy
for posts without emoji and lowercases only the words it reads. Its scores are VADER's:
tests compare them on every airline and X-CI tweet and on generated text.
"""

from __future__ import annotations

from vaderSentiment import vaderSentiment as vader

_NEGATIONS = frozenset(vader.NEGATE)
_BOOSTERS: dict[str, float] = vader.BOOSTER_DICT
_IDIOMS: dict[str, float] = vader.SPECIAL_CASES
_N_SCALAR: float = vader.N_SCALAR


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
        sentitext = vader.SentiText(text)
        words = sentitext.words_and_emoticons
        last = len(words) - 1
        sentiments: list[float] = []
        for i, item in enumerate(words):
            lowered = item.lower()
            if lowered in _BOOSTERS or (
                i < last and lowered == "kind" and words[i + 1].lower() == "of"
            ):
                sentiments.append(0)
                continue
            sentiments = self.sentiment_valence(0, sentitext, item, i, sentiments)
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

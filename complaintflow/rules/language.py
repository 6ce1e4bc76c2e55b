"""Language identification of a mention: which language it is written in, and how surely.

py3langid (the langid.py model, shipped inside the package: nothing is fetched at run time) on
the text with handles, links, hashtag marks, emoji and digits stripped and letters lowercased.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from typing import Any

from complaintflow.rules.model import CompiledPolicy, StepKind

# The languages identification chooses among: those customers commonly write to brands in on
# social media. Fewer candidates mean fewer absurd answers on short posts (a tweet of airport
# codes is not Walloon); a post in a language outside the list gets its nearest relative, with
# a low confidence, and is routed as one the policy cannot read.
# fmt: off
CANDIDATES: tuple[str, ...] = (
    "en", "es", "pt", "fr", "de", "it", "nl", "sv", "da", "no", "fi", "pl", "cs", "sk", "hu",
    "ro", "bg", "el", "ru", "uk", "tr", "ar", "he", "fa", "ur", "hi", "bn", "ta", "te", "th",
    "vi", "id", "ms", "tl", "ja", "ko", "zh", "ca", "hr", "sr", "sl", "lt", "lv", "et",
)
# fmt: on
# Default confidence below which a policy treats a mention as one it cannot read: posts too
# short or too mixed to tell.
DEFAULT_MIN_CONFIDENCE = 0.1
# Default share of a brand's mentions written in the languages its policy lists (the prior).
DEFAULT_PRIOR = 0.9
# Signals computed from English word lists: the variables a condition reads them through.
ENGLISH_ONLY: dict[str, str] = {
    "sentiment": "VADER's lexicon is English",
    "mention.cue_words": "the cue words are English",
}

_NOISE = re.compile(
    r"@\w+"  # handles
    r"|(?:https?://|www\.)\S+"  # links
    r"|[#$]"  # hashtag and cashtag marks (the word stays)
    r"|\d+"  # numbers, times, flight numbers
    r"|[^\w\s'’¿¡]"  # emoji, symbols and punctuation (but ¿ ¡ and apostrophes)
)


def clean(text: str) -> str:
    """The words of `text` that tell its language: lowercased, without handles, links, emoji."""
    return " ".join(_NOISE.sub(" ", text.lower()).split())


@functools.cache
def _identifier() -> Any:
    import numpy
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    # Raw naive-Bayes log-likelihoods: identify() weighs them with the policy's prior itself.
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)
    identifier.set_languages(list(CANDIDATES))
    # The candidates' columns as one contiguous float32 table: the model ships float16, whose
    # gather and product numpy does slowly (triage with identification ran 28% faster).
    identifier.nb_ptc = numpy.ascontiguousarray(identifier.nb_ptc, dtype=numpy.float32)
    return identifier


@dataclasses.dataclass(frozen=True)
class Prior:
    """What a policy expects before reading a word: `share` of mentions in `languages`.

    Identification is Bayes' rule: P(language | words) is proportional to P(words | language)
    times this prior. A long post's words outweigh any prior; a short one's few words ("Dm
    sent", "Nice!!") say little, so they lean towards the languages the brand hears, unless they
    are plainly another's ("nadie contesta!!" stays Spanish).
    """

    languages: frozenset[str]
    share: float = DEFAULT_PRIOR

    def log_weight(self, language: str) -> float:
        """log P(language) before the text is read."""
        if language in self.languages:
            return math.log(self.share / len(self.languages))
        others = max(1, len(CANDIDATES) - len(self.languages))
        return math.log((1.0 - self.share) / others)


def prior_for(policy: CompiledPolicy) -> Prior | None:
    """The prior a policy's mentions are identified with (None: every language alike)."""
    if not policy.languages:
        return None
    share = policy.unread.prior if policy.unread is not None else DEFAULT_PRIOR
    return Prior(frozenset(policy.languages), share)


def identify(text: str, prior: Prior | None = None) -> tuple[str, float]:
    """(ISO 639-1 code, confidence 0..1) of `text`; ("", 0.0) when it has no words.

    Without a prior every candidate language is alike, and very short posts are often unsure
    or wrong ("nice van" reads as Croatian); a policy's prior (see Prior) settles those.
    """
    words = clean(text)
    if not any(c.isalpha() for c in words):
        return "", 0.0
    if _plainly_english(words.split()):
        return "en", PLAINLY_ENGLISH_CONFIDENCE
    import numpy

    identifier = _identifier()
    scores = identifier._decide(words)[_columns()].astype(numpy.float64)
    if scores[0] <= _NO_EVIDENCE:  # not one n-gram the model knows: every language alike
        scores[:] = 0.0
    if prior is not None:
        scores += _log_prior(prior)
    best = int(scores.argmax())  # the first of equals: CANDIDATES order breaks ties
    total = float(numpy.exp(scores - scores[best]).sum())
    return CANDIDATES[best], round(1.0 / total, 4)


@functools.cache
def _columns() -> Any:
    """Where each of CANDIDATES (in order) is among the identifier's score columns."""
    import numpy

    classes = list(_identifier().nb_classes)
    return numpy.array([classes.index(language) for language in CANDIDATES])


@functools.lru_cache(maxsize=64)
def _log_prior(prior: Prior) -> Any:
    """log P(language) for each of CANDIDATES, in order."""
    import numpy

    return numpy.array([prior.log_weight(language) for language in CANDIDATES])


# The model's floor score, for a text without a single n-gram it knows ("no").
_NO_EVIDENCE = -1e30


# Plain English is told from its function words before the model runs (the model's n-gram
# walk costs more than the rest of triage's text work): words no candidate language shares
# (strong), and common ones some do share ("my" is Polish, "is" Dutch, "me" Spanish, "any"
# Catalan: weak). On the airline tweets it answers for 80% and disagreed with the model on 5
# of 11,781, each one the model got wrong ("yes I did but no response" is not Catalan); it
# takes none of the non-English mentions (tests/rules/test_language_quality.py).
# fmt: off
_STRONG_WORDS = (
    "the and with this that these those not but be being you your yours "
    "they their them our ours what why how would could should did does don't doesn't "
    "didn't can't won't isn't aren't wasn't i'm i've i'll it's that's there's from about "
    "anyone there when where were which who whom after before again because very"
)
_WEAK_WORDS = (
    "my to for is of on in it i me so are was just still will has do at an a get got "
    "we had been have having"  # Dutch "we", "had", "been"; Danish "have"
    " any here"  # Catalan "any" (year); Dutch "Here" (the Lord)
)
# fmt: on
_STRONG = frozenset(_STRONG_WORDS.split(" "))
_WEAK = frozenset(_WEAK_WORDS.split(" "))
PLAINLY_ENGLISH_CONFIDENCE = 0.99


def _plainly_english(words: list[str]) -> bool:
    """At least four ASCII words, a strong marker, and a quarter of them markers."""
    if len(words) < 4 or not all(map(str.isascii, words)):
        return False
    strong = sum(map(_STRONG.__contains__, words))
    if not strong:
        return False
    weak = sum(map(_WEAK.__contains__, words))
    return (strong + weak) * 4 >= len(words)


def load() -> None:
    """Load the model now (it is otherwise read when first needed)."""
    _identifier()


def replies_in(policy: CompiledPolicy, playbook: str, language: str) -> bool:
    """Whether every text `playbook` sends the customer is written in `language`.

    A plain (one-language) template is in the policy's first language, or in any language
    when the policy does not say which it reads.
    """
    for step in policy.playbook(playbook).steps:
        if step.kind not in (StepKind.REPLY, StepKind.HANDOFF) or not step.template:
            continue
        template = policy.template(step.template)
        if template.translations:
            if all(t.language != language for t in template.translations):
                return False
        elif policy.languages and language != policy.languages[0]:
            return False
    return True


def playbooks_in(policy: CompiledPolicy, language: str) -> tuple[str, ...]:
    """The playbooks that can answer a customer writing in `language`."""
    return tuple(p.name for p in policy.playbooks if replies_in(policy, p.name, language))

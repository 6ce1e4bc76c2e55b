"""Language identification of a mention: which language it is written in, and how surely.

py3langid (the langid.py model, shipped inside the package: nothing is fetched at run time) on
the text with handles, links, hashtag marks, emoji and digits stripped and letters lowercased.
"""

from __future__ import annotations

import functools
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

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(CANDIDATES))
    # The candidates' columns as one contiguous float32 table: the model ships float16, whose
    # gather and product numpy does slowly (triage with identification ran 28% faster).
    identifier.nb_ptc = numpy.ascontiguousarray(identifier.nb_ptc, dtype=numpy.float32)
    return identifier


def identify(text: str) -> tuple[str, float]:
    """(ISO 639-1 code, confidence 0..1) of `text`; ("", 0.0) when it has no words.

    Very short posts are often unsure or wrong ("nice van" reads as Croatian): a policy sends
    them to a person rather than risk binning "nadie contesta!!".
    """
    words = clean(text)
    if not any(c.isalpha() for c in words):
        return "", 0.0
    language, confidence = _identifier().classify(words)
    return str(language), round(float(confidence), 4)


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

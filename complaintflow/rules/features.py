"""Features of a mention that conditions read: sentiment, complaint cue words, reach, and so on.

Pure functions of the mention. Sentiment is VADER's compound score, made for social media text
(its lexicon is read once, when first needed).
"""

from __future__ import annotations

import re
from typing import Any

from complaintflow.rules.expressions import normalise_text
from complaintflow.rules.language import Prior, identify
from complaintflow.rules.mention import Mention
from complaintflow.rules.sentiment import sentiment

# Words and phrases that mark a problem or a complaint in customer posts, for any kind of
# business. Matched as whole words on normalised text; a trailing * matches any ending.
# fmt: off
CUE_WORDS: tuple[str, ...] = (
    # something is broken, wrong or missing
    "broken", "broke", "damaged", "cracked", "scratched", "dented", "torn", "ripped",
    "defective", "faulty", "not working", "doesn't work", "stopped working", "won't work",
    "down", "error", "fail*", "glitch*", "crash*", "stuck", "wrong", "missing", "lost",
    "never arrived", "never received", "didn't arrive", "not arrived",
    # money
    "refund*", "money back", "charged", "overcharged", "double charged", "fee*", "scam",
    # time and waiting
    "late", "delay*", "cancel*", "missed", "still", "waiting", "waited", "wait time", "on hold",
    "hours", "days", "weeks", "stranded",
    # nobody helps
    "no response", "no reply", "no answer", "nobody", "no one", "no help", "ignored",
    "hung up", "disconnect*", "unhelpful", "useless", "rude", "can't get", "cannot get",
    "unable", "won't let", "wouldn't let",
    # how it felt
    "unacceptable", "disappointed", "disappointing", "frustrat*", "fed up", "terrible",
    "awful", "worst", "horrible", "ridiculous", "joke", "sucks",
    # asking for it to be put right
    "complaint", "complain*", "problem", "issue*", "fix", "replace*", "return",
)
# fmt: on
# One alternation over all cue words, longest first, matched on normalised text.
_CUES = re.compile(
    " ("
    + "|".join(
        re.escape(w.rstrip("*")) + (r"[\w']*" if w.endswith("*") else "")
        for w in sorted(CUE_WORDS, key=len, reverse=True)
    )
    + r")(?= )"
)


def cue_words(normalised: str) -> int:
    """How many distinct problem cue words appear in normalised text (see normalise_text)."""
    return len(set(_CUES.findall(normalised))) if normalised.strip() else 0


def mention_values(
    mention: Mention,
    normalised: str,
    brand_handles: tuple[str, ...] = (),
    prior: Prior | None = None,
    *,
    known: tuple[float, tuple[str, float]] | None = None,
) -> dict[str, Any]:
    """The values of the mention-scope CEL variables (see expressions.MENTION_VARIABLES).

    A post counts as addressed to the brand when ingest says so or when it @-mentions one of
    `brand_handles` (lowercase, without @); its language is identified with `prior` when
    enrichment did not give it. `known` is (sentiment, language_of) computed already.
    """
    author = mention.author
    addressed = mention.addressed
    if not addressed and brand_handles and "@" in mention.text:
        lowered = mention.text.lower()
        addressed = any(f"@{handle}" in lowered for handle in brand_handles)
    customer = mention.customer
    if known is None:
        known = tone_of(mention), language_of(mention, prior)
    tone, (language, confidence) = known
    return {
        "mention.id": mention.id,
        "mention.platform": mention.platform,
        "mention.kind": mention.kind,
        "mention.private": mention.private,
        "mention.channel": mention.channel,
        "mention.text": mention.text,
        "mention.thread_id": mention.thread,
        "mention.reshares": mention.reshares,
        "mention.replies": mention.replies,
        "mention.likes": mention.likes,
        "mention.rating": mention.rating,
        "mention.addressed": addressed,
        "mention.repeat_contacts": mention.repeat_contacts,
        "mention.cue_words": cue_words(normalised),
        "mention.language": language,
        "mention.language_confidence": confidence,
        "author.id": author.id,
        "author.handle": author.handle,
        "author.name": author.name,
        "author.followers": author.followers,
        "author.verified": author.verified,
        "customer.known": customer.known,
        "customer.tier": customer.tier,
        "customer.id": customer.id,
        "sentiment": tone,
        "channel": mention.platform,
    }


def tone_of(mention: Mention) -> float:
    """The mention's sentiment: enrichment's if given, else computed now."""
    return mention.sentiment if mention.sentiment is not None else sentiment(mention.text)


def language_of(mention: Mention, prior: Prior | None = None) -> tuple[str, float]:
    """The mention's language and confidence: enrichment's if given, else identified now."""
    if mention.language is not None:
        confidence = mention.language_confidence
        return mention.language, 1.0 if confidence is None else confidence
    return identify(mention.text, prior)


_THANKS = re.compile(r" (thank[\w']*|thx|ty|cheers|sorted|resolved|fixed|appreciate[\w']*) ")


def is_thanks(mention: Mention) -> bool:
    """A post that thanks the brand or says the problem is sorted (a customer's last word).

    Reads the sentiment enrichment put on the mention, never computes it: workflows call this
    and must not load the sentiment lexicon (file I/O). Without it, the words decide.
    """
    if mention.sentiment is not None and mention.sentiment < 0.3:
        return False
    return bool(_THANKS.search(normalise_text(mention.text)))

"""Language identification: accuracy on real tweets, its cost in triage, and the mixed stream.

Prints (1) identification accuracy on tweets of 5+ words (the airline tweets, English, and
the hand-written Spanish/Portuguese/French/German mentions in bench/data), (2) triage speed
of the example policy with language identification against a sentiment-only baseline, in
alternating rounds on one core, and (3) on the mixed stream (airline + non-English) how many
non-English complaints the example policy logs as throwaway remarks (must be 0).
Run: python bench/language.py [--rounds N]
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from complaintflow.learning.files import read_mentions
from complaintflow.rules.compiler import load_policy
from complaintflow.rules.language import Prior, clean, identify, prior_for
from complaintflow.rules.mention import Mention
from complaintflow.rules.sentiment import sentiment
from complaintflow.rules.triage import Triage

ROOT = Path(__file__).resolve().parent.parent
AIRLINE = ROOT.parent / "shared" / "data" / "airline" / "Tweets.csv"
OTHERS = ROOT / "bench" / "data" / "multilingual_mentions.jsonl"
POLICY = ROOT / "policies.example.yaml"
MIN_WORDS = 5


@dataclasses.dataclass(frozen=True)
class Labelled:
    mention: Mention
    language: str
    complaint: bool | None  # None: not labelled


def labelled_stream() -> list[Labelled]:
    """The airline tweets (English) followed by the hand-written non-English mentions."""
    rows = [
        Labelled(m, "en", None)
        for m in read_mentions(AIRLINE, text_column="text", id_column="tweet_id")
    ]
    for line in OTHERS.read_text(encoding="utf-8").splitlines():
        data = json.loads(line)
        rows.append(
            Labelled(
                Mention(id=data["id"], text=data["text"]), data["written_in"], data["complaint"]
            )
        )
    return rows


def _selected(text: str, short: bool) -> bool:
    """A post of MIN_WORDS+ words, or (`short`) one with letters but fewer words."""
    words = clean(text).split()
    if not short:
        return len(words) >= MIN_WORDS
    return 0 < len(words) < MIN_WORDS and any(c.isalpha() for c in "".join(words))


def accuracy(
    rows: list[Labelled], prior: Prior | None = None, *, short: bool = False
) -> tuple[float, int, Counter[str]]:
    """Share of posts of MIN_WORDS+ words (or, `short`, of 1 to MIN_WORDS-1) identified as
    their language; count; mistakes."""
    long = [r for r in rows if _selected(r.mention.text, short)]
    wrong: Counter[str] = Counter()
    for row in long:
        found, _ = identify(row.mention.text, prior)
        if found != row.language:
            wrong[f"{row.language}->{found or '?'}"] += 1
    return 1 - sum(wrong.values()) / len(long), len(long), wrong


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not AIRLINE.exists():
        print(f"{AIRLINE} is not here; nothing to measure")
        return 1
    rows = labelled_stream()
    english = [r for r in rows if r.complaint is None]
    others = [r for r in rows if r.complaint is not None]

    print("1. language identification, tweets of 5+ words (handles, links, emoji stripped)")
    for name, part in (("airline (en)", english), ("es/pt/fr/de", others), ("all", rows)):
        share, count, wrong = accuracy(part)
        common = ", ".join(f"{k} {n}" for k, n in wrong.most_common(4))
        print(f"   {name:14} {share:7.4f}  of {count:6,}   (aim >= 0.95)  mistakes: {common}")
    prior = prior_for(load_policy(POLICY))
    print("   posts of 1-4 words, airline (en): read as English")
    for name, given in (("no prior", None), ("policy's prior", prior)):
        share, count, wrong = accuracy(english, given, short=True)
        common = ", ".join(f"{k} {n}" for k, n in wrong.most_common(3))
        print(f"   {name:14} {share:7.4f}  of {count:6,}   mistakes: {common}")
    share, count, _ = accuracy(rows, prior)
    print(f"   5+ words, all, policy's prior {share:.4f} of {count:,}")

    print("\n2. triage speed, one core, example policy (median of rounds)")
    policy = load_policy(POLICY)
    triage = Triage(policy)
    mentions = [r.mention for r in english]
    texts = [m.text for m in mentions]
    known = [dataclasses.replace(m, language="en", language_confidence=1.0) for m in mentions]
    sentiment(texts[0])
    identify(texts[0])
    triage.decide(mentions[0])
    timings: dict[str, list[float]] = {"baseline": [], "identify": [], "without": [], "with": []}
    gc.collect()
    for _ in range(args.rounds):
        for name, run in (
            ("baseline", lambda: [sentiment(t) for t in texts]),
            ("identify", lambda: [identify(t) for t in texts]),
            ("without", lambda: [triage.decide(m) for m in known]),
            ("with", lambda: [triage.decide(m) for m in mentions]),
        ):
            started = time.perf_counter()
            run()
            timings[name].append(time.perf_counter() - started)
    median = {k: statistics.median(v) for k, v in timings.items()}
    rate = {k: len(mentions) / v for k, v in median.items()}
    print(f"   baseline (sentiment only)        {rate['baseline']:9,.0f} mentions/s")
    print(f"   language identification only     {rate['identify']:9,.0f} mentions/s")
    print(f"   triage, language given           {rate['without']:9,.0f} mentions/s")
    print(f"   triage with language ID          {rate['with']:9,.0f} mentions/s  (aim >= 4,000)")
    print(f"   ratio with-ID / baseline         {median['with'] / median['baseline']:9.2f}")

    print("\n3. mixed stream: airline tweets + non-English mentions, example policy")
    routes: Counter[str] = Counter()
    binned: list[str] = []
    for row in rows:
        decision = triage.decide(row.mention)
        if row.complaint is None:
            routes[f"en: {decision.route or 'throwaway'}"] += 1
            continue
        kind = "complaint" if row.complaint else "remark"
        routes[f"{row.language} {kind}: {decision.route or 'throwaway'}"] += 1
        if row.complaint and decision.route is None:
            binned.append(row.mention.id)
    for key, n in sorted(routes.items()):
        print(f"   {key:32} {n:6,}")
    print(
        f"   non-English complaints logged as throwaway remarks: {len(binned)} of "
        f"{sum(1 for r in others if r.complaint)} (must be 0) {' '.join(binned)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

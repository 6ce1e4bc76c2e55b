"""Triage speed: mentions/s for the example policy against a sentiment-only baseline.

Both run over the same real airline tweets in one process, one core, in alternating rounds;
the ratio is (time to triage) / (time to run only the sentiment analyser). The analyser is
complaintflow's (VADER's scores, computed faster); stock VADER is timed too, as the baseline
the sentiment-only triage had. Batches (Triage.decide_many, as evaluate and simulate run) are
timed too. The example policy
runs its trained classifiers; the same policy without them is measured too. Also reports the
compile time of the example policy, the size of a compiled policy, and each shipped model's
file size and load time.
Run: python bench/triage.py [--rounds N]
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from complaintflow.learning.files import read_mentions
from complaintflow.rules.classifiers import load_model
from complaintflow.rules.compiler import check_file, load_policy
from complaintflow.rules.mention import Mention
from complaintflow.rules.model import CompiledPolicy
from complaintflow.rules.sentiment import sentiment
from complaintflow.rules.triage import Triage

ROOT = Path(__file__).resolve().parent.parent
AIRLINE = ROOT.parent / "shared" / "data" / "airline" / "Tweets.csv"
POLICY = ROOT / "policies.example.yaml"
MODELS = ROOT / "complaintflow" / "models"


def _sample() -> list[Mention]:
    if AIRLINE.exists():
        return list(read_mentions(AIRLINE, text_column="text", id_column="tweet_id"))
    print(f"note: {AIRLINE} is not here; using the bundled sample policy tests' texts")
    return [
        Mention(id=str(i), text=t)
        for i, t in enumerate(
            [
                "@NorthwindCares my order never arrived",
                "love the new sofa!",
                "@NorthwindCares charged twice and nobody answers",
            ]
            * 2000
        )
    ]


def _seconds(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def _without_classifiers(policy: CompiledPolicy) -> CompiledPolicy:
    """The policy minus every signal that reads a classifier, and minus the classifiers."""
    signals = tuple(s for s in policy.signals if "classifier." not in s.when)
    return dataclasses.replace(
        policy, signals=signals, classifiers=(), content_hash=policy.content_hash + ":plain"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--policy", type=Path, default=POLICY, help="e.g. one reading retrained candidates"
    )
    args = parser.parse_args()
    mentions = _sample()
    texts = [m.text for m in mentions]

    compile_times = []
    for _ in range(5):
        started = time.perf_counter()
        result = check_file(args.policy)
        compile_times.append(time.perf_counter() - started)
    assert result.policy is not None
    policy = load_policy(args.policy)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    fresh = check_file(args.policy).policy
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    assert fresh is not None
    compiled_bytes = sum(s.size_diff for s in after.compare_to(before, "filename"))

    triage = Triage(policy)
    sentiment(texts[0])  # load the lexicon outside the timings
    triage.decide(mentions[0])
    stock_vader = SentimentIntensityAnalyzer().polarity_scores
    plain = Triage(_without_classifiers(policy))
    runs: dict[str, Callable[[], object]] = {
        "baseline": lambda: [sentiment(text) for text in texts],
        "stock": lambda: [stock_vader(text) for text in texts],
        "triage": lambda: [triage.decide(mention) for mention in mentions],
        "batches": lambda: triage.decide_many(mentions),
        "plain": lambda: [plain.decide(mention) for mention in mentions],
    }
    timings: dict[str, list[float]] = {name: [] for name in runs}
    gc.collect()
    for _ in range(args.rounds):  # alternating, so a busy moment of the machine hits all
        for name, run in runs.items():
            timings[name].append(_seconds(run))
    median = {name: statistics.median(seconds) for name, seconds in timings.items()}
    base_s, rules_s, stock_s = median["baseline"], median["triage"], median["stock"]
    batched, plain_s = median["batches"], median["plain"]
    print(f"mentions                 {len(mentions)}")
    print(f"baseline (sentiment)     {len(mentions) / base_s:10,.0f} mentions/s")
    print(f"triage (example policy)  {len(mentions) / rules_s:10,.0f} mentions/s")
    print(f"ratio triage/baseline    {rules_s / base_s:10.2f}  (aim <= 2.5)")
    print(f"stock VADER              {len(mentions) / stock_s:10,.0f} mentions/s")
    print(f"ratio triage/stock VADER {rules_s / stock_s:10.2f}")
    print(f"triage, batches          {len(mentions) / batched:10,.0f} mentions/s (decide_many)")
    print(
        f"ratio batches/baseline   {batched / base_s:10.2f}  (stock VADER: {batched / stock_s:.2f})"
    )
    print(f"triage without models    {len(mentions) / plain_s:10,.0f} mentions/s")
    print(f"ratio without/baseline   {plain_s / base_s:10.2f}")
    print(f"ratio with/without models{rules_s / plain_s:10.2f}  (what the classifiers add)")
    for path in sorted(MODELS.glob("*.cfmodel")):
        started = time.perf_counter()
        load_model(path, cached=False)
        loaded_ms = 1000 * (time.perf_counter() - started)
        print(
            f"model {path.name:18} {path.stat().st_size / 1024:10,.0f} KiB, loads in "
            f"{loaded_ms:.0f} ms (aim < 5 MB, < 200 ms)"
        )
    print(
        f"compile example policy   {1000 * min(compile_times):10.1f} ms (best of 5; "
        f"median {1000 * statistics.median(compile_times):.1f} ms; aim < 50 ms)"
    )
    print(f"compiled policy JSON     {len(policy.to_json()):10,} bytes")
    print(
        f"memory per compile       {compiled_bytes / 1024:10,.0f} KiB (python heap, "
        "with its CEL programs)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

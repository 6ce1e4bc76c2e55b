"""Triage speed: mentions/s for the example policy against a sentiment-only baseline.

Both run over the same real airline tweets in one process, one core, in alternating rounds;
the ratio is (time to triage) / (time to run only the sentiment analyser). The analyser is
complaintflow's (VADER's scores, computed faster); stock VADER is timed too, as the baseline
the sentiment-only triage had. Batches (Triage.decide_many, as evaluate and simulate run) are
timed too. The example policy
runs its trained classifiers; the same policy without them is measured too. Also reports the
compile time of the example policy, the size of a compiled policy, and each shipped model's
file size and load time.

Each rate is given twice: by the wall clock, and by the CPU time the process used (on a machine
other jobs share, the wall clock also counts the time the process waited for a core; the CPU
time does not, so it is what one core of this machine delivers; both hold the baseline's share
of the same contention, so the ratios agree when the machine is quiet).
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


def _seconds(run: Callable[[], object]) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds of this process) that `run` took."""
    started, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - started, time.process_time() - cpu


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
    timings: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    gc.collect()
    for _ in range(args.rounds):  # alternating, so a busy moment of the machine hits all
        for name, run in runs.items():
            timings[name].append(_seconds(run))
    n = len(mentions)
    print(f"mentions                 {n}  (wall clock | CPU time)")
    for clock, label in ((0, "wall"), (1, "cpu")):
        median = {
            name: statistics.median(s[clock] for s in seconds) for name, seconds in timings.items()
        }
        _report(n, median, label)
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


def _report(n: int, median: dict[str, float], clock: str) -> None:
    """The rates and ratios by one clock."""
    base_s, rules_s, stock_s = median["baseline"], median["triage"], median["stock"]
    batched, plain_s = median["batches"], median["plain"]
    print(f"[{clock}] baseline (sentiment)     {n / base_s:10,.0f} mentions/s")
    print(f"[{clock}] triage (example policy)  {n / rules_s:10,.0f} mentions/s (aim >= 5,000)")
    print(f"[{clock}] ratio triage/baseline    {rules_s / base_s:10.2f}  (aim <= 2.5)")
    print(f"[{clock}] stock VADER              {n / stock_s:10,.0f} mentions/s")
    print(f"[{clock}] ratio triage/stock VADER {rules_s / stock_s:10.2f}")
    print(f"[{clock}] triage, batches          {n / batched:10,.0f} mentions/s (decide_many)")
    print(
        f"[{clock}] ratio batches/baseline   {batched / base_s:10.2f}  "
        f"(stock VADER: {batched / stock_s:.2f}; aim <= 3.5)"
    )
    print(f"[{clock}] triage without models    {n / plain_s:10,.0f} mentions/s")
    print(f"[{clock}] ratio without/baseline   {plain_s / base_s:10.2f}")
    print(
        f"[{clock}] ratio with/without models{rules_s / plain_s:10.2f}  (what the classifiers add)"
    )


if __name__ == "__main__":
    sys.exit(main())

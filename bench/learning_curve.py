"""How the example policy improves as a brand's supervisors label its mentions.

The airline tweets stand for one brand's stream, in the order they were posted. The first N
(250, 500, 1,000, 2,000) are the supervisors' decisions; a candidate complaint model is trained
on the built-in model's examples plus those N (`complaintflow train --base builtin:complaint`),
and the example policy with that model decides every tweet after the first 2,000: the same
held-out mentions for every N and for the built-in model alone.

A complaint is a negative tweet with a concrete reason other than "Can't Tell" (as in
bench/airline_quality.py); with `--complaint negative`, every negative tweet (the annotators
found them negative but could not name the reason; read by hand, most complain all the same,
see docs/learning.md). A severe one is a complaint about a cancelled flight, lost or damaged
luggage or a booking problem: the customer is stranded or out of property or money.

Beside the policy's scores, each row gives the complaint model's own: its F1 at probability
0.5 and its best F1 at any probability cut-off (measured on the held-out tweets, so an upper
bound no policy reading that model alone could pass, never a setting to ship).

Evaluation only: the models trained here live in memory and are never written anywhere (the
airline tweets are CC BY-NC-SA; nothing trained on them ships).
Run: python bench/learning_curve.py [--weight W] [--severity] [--complaint negative]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

from complaintflow.candidates import (
    DEFAULT_SEVERITY_WEIGHT,
    base_examples,
    choose_weight,
    train_with_base,
    with_candidate,
)
from complaintflow.learning.evaluation import Evaluation, Example, evaluate
from complaintflow.learning.training import Labelled, Scores, pack_model
from complaintflow.rules.classifiers import load_packed
from complaintflow.rules.compiler import load_policy
from complaintflow.rules.mention import Mention
from complaintflow.rules.model import CompiledPolicy
from complaintflow.rules.triage import Triage

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "airline" / "Tweets.csv"
POLICY = ROOT / "policies.example.yaml"
BATCHES = (250, 500, 1000, 2000)
SEVERE = {"Cancelled Flight", "Lost Luggage", "Damaged Luggage", "Flight Booking Problems"}


@dataclasses.dataclass(frozen=True)
class Point:
    labels: int
    precision: float
    recall: float
    f1: float
    severe_recall: float
    opened_per_1000: float
    train_seconds: float
    model_f1: float  # the complaint model alone, at probability 0.5
    model_best_f1: float  # ... at its best cut-off on the held-out tweets (a bound, not a setting)


def stream(mapping: str = "reason") -> list[tuple[Example, str]]:
    """The airline tweets as labelled examples, oldest first, with their time."""
    with DATA.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows.sort(key=lambda r: (r["tweet_created"], r["tweet_id"]))
    out = []
    for row in rows:
        negative = row["airline_sentiment"] == "negative"
        complaint = negative and (
            mapping == "negative" or row["negativereason"] not in ("", "Can't Tell")
        )
        severity = 4 if complaint and row["negativereason"] in SEVERE else int(complaint)
        mention = Mention(id=row["tweet_id"], text=row["text"])
        out.append((Example(mention, complaint, severity), row["tweet_created"]))
    return out


def model_scores(policy: CompiledPolicy, held_out: list[Example]) -> tuple[float, float]:
    """F1 of the policy's complaint model alone at probability 0.5, and at its best cut-off."""
    found = Triage(policy).values_many([e.mention for e in held_out])
    probability = [values["classifier.complaint"] for values, _ in found]
    truth = [e.complaint for e in held_out]

    def f1(cut: float) -> float:
        return Scores.of(truth, [p >= cut for p in probability]).f1

    return f1(0.5), max(f1(i / 100) for i in range(5, 96))


def with_model(policy: CompiledPolicy, data: dict[str, Any]) -> CompiledPolicy:
    """The policy with its classifier of the model's task replaced by it (in memory)."""
    return with_candidate(policy, load_packed(pack_model(data), f"candidate {data['task']}"))


def point(labels: int, result: Evaluation, seconds: float, model: tuple[float, float]) -> Point:
    shipped = next(r for r in result.sweep if abs(r.threshold - result.threshold) < 1e-9)
    return Point(
        labels,
        shipped.scores.precision,
        shipped.scores.recall,
        shipped.scores.f1,
        shipped.severe_recall or 0.0,
        1000 * shipped.opened / result.examples,
        seconds,
        *model,
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--weight",
        type=float,
        help="the brand weight (default: chosen by 3-fold CV on each batch, as `train` does)",
    )
    parser.add_argument(
        "--severity",
        action="store_true",
        help="also retrain the severity model on the batch (its dismissals as severity 0)",
    )
    parser.add_argument(
        "--complaint",
        choices=("reason", "negative"),
        default="reason",
        help="what counts as a complaint: a negative tweet with a named reason (default), or "
        "every negative tweet",
    )
    args = parser.parse_args()
    if not DATA.exists():
        print(f"skipped: {DATA} is not here")
        return 0
    policy = load_policy(POLICY)
    shipped = next(t.value for t in policy.thresholds if t.name == "respond")
    examples = stream(args.complaint)
    held_out = [e for e, _ in examples[max(BATCHES) :]]
    complaints = sum(e.complaint for e in held_out)
    print(
        f"held out: {len(held_out)} tweets after the first {max(BATCHES)} "
        f"({examples[max(BATCHES)][1]} on), {complaints} complaints; respond {shipped}"
    )
    base = base_examples("builtin:complaint", "complaint")
    severity_base = base_examples("builtin:severity", "severity")
    points = [
        point(0, evaluate(policy, held_out, sweep=[shipped]), 0.0, model_scores(policy, held_out))
    ]
    for n in BATCHES:
        batch = [e for e, _ in examples[:n]]
        brand = Labelled(
            [e.mention.text for e in batch],
            [int(e.complaint) for e in batch],
            [e.mention.id for e in batch],
        )
        started = time.perf_counter()
        weight = args.weight
        if weight is None:
            weight = choose_weight(base, brand, task="complaint", report=lambda _: None)[0].weight
        data = train_with_base(base, brand, task="complaint", weight=weight)
        seconds = time.perf_counter() - started
        candidate = with_model(policy, data)
        if args.severity:  # the dismissals (not complaints) teach severity 0, as `train` does
            negatives = [i for i, label in enumerate(brand.labels) if label == 0]
            dismissed = Labelled(
                [brand.texts[i] for i in negatives], [0] * len(negatives), [""] * len(negatives)
            )
            severity = train_with_base(
                severity_base, dismissed, task="severity", weight=DEFAULT_SEVERITY_WEIGHT
            )
            candidate = with_model(candidate, severity)
        result = evaluate(candidate, held_out, sweep=[shipped])
        points.append(point(n, result, seconds, model_scores(candidate, held_out)))
        print(f"  {n} labels: brand weight {weight:g}, trained in {seconds:.1f} s", flush=True)
    print(
        "labels  precision  recall     f1  severe recall  opened/1000  model F1 (best)  vs built-in"
    )
    first = points[0]
    for p in points:
        gain = (
            f"P {p.precision - first.precision:+.3f}  F1 {p.f1 - first.f1:+.3f}" if p.labels else ""
        )
        print(
            f"{p.labels or 'built-in':>6}  {p.precision:9.3f}  {p.recall:6.3f}  {p.f1:5.3f}  "
            f"{p.severe_recall:13.3f}  {p.opened_per_1000:11.0f}  "
            f"{p.model_f1:8.3f} ({p.model_best_f1:.3f})  {gain}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

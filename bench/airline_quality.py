"""Precision and recall of the example policy's complaint detection on real airline tweets.

A complaint is a negative tweet with a concrete reason other than "Can't Tell" (the data set's
labels); the policy "detects" it when any route matches. Run: python bench/airline_quality.py
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

from complaintflow.learning.files import read_mentions
from complaintflow.rules.compiler import load_policy
from complaintflow.rules.triage import Triage

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "airline" / "Tweets.csv"


def main() -> int:
    if not DATA.exists():
        print(f"skipped: {DATA} is not here")
        return 0
    with DATA.open(encoding="utf-8", newline="") as handle:
        labels = {row["tweet_id"]: row for row in csv.DictReader(handle)}
    triage = Triage(load_policy(ROOT / "policies.example.yaml"))
    counts: Counter[str] = Counter()
    by_reason: Counter[str] = Counter()
    by_reason_hit: Counter[str] = Counter()
    for mention in read_mentions(DATA, text_column="text", id_column="tweet_id"):
        row = labels[mention.id]
        complaint = row["airline_sentiment"] == "negative" and row["negativereason"] not in (
            "",
            "Can't Tell",
        )
        detected = triage.decide(mention).route is not None
        counts[("t" if detected == complaint else "f") + ("p" if detected else "n")] += 1
        if complaint:
            by_reason[row["negativereason"]] += 1
            by_reason_hit[row["negativereason"]] += detected
        else:
            by_reason[f"(not a complaint: {row['airline_sentiment']})"] += 1
            by_reason_hit[f"(not a complaint: {row['airline_sentiment']})"] += detected
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    print(f"tweets {sum(counts.values())}, complaints {tp + fn}, detected {tp + fp}")
    print(f"precision {precision:.3f}  recall {recall:.3f}  f1 {f1:.3f}")
    for reason, total in sorted(by_reason.items(), key=lambda kv: -kv[1]):
        print(f"  {reason:38} {by_reason_hit[reason]:5}/{total:<5} detected")
    return 0


if __name__ == "__main__":
    sys.exit(main())

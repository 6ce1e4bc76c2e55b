"""Cross-validated quality of the example policy end to end, on X-CI's labelled tweets.

Five folds; in each, the policy's classifiers are retrained on the other four and the whole
policy (classifiers and rule signals, decided as ingest decides) triages the held-out fold:
what `complaintflow evaluate --folds 5` does. Prints complaint F1 at the best respond
threshold, and at the shipped one F1 and the recall of severity 3-4.
Run: python bench/policy_cv.py [--folds 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from complaintflow.learning.evaluation import SWEEP, Evaluation, evaluate, read_examples
from complaintflow.learning.retraining import fold_policies
from complaintflow.rules.compiler import load_policy

ROOT = Path(__file__).resolve().parent.parent
XCI = ROOT.parent / "shared" / "data" / "xci" / "train.csv"
POLICY = ROOT / "policies.example.yaml"


def cross_validated(k: int = 5) -> Evaluation:
    """The example policy evaluated on X-CI with its models retrained in `k` folds."""
    policy = load_policy(POLICY)
    examples = read_examples(
        XCI, text_column="text", label_column="label", severity_column="severity"
    )
    shipped = next(t.value for t in policy.thresholds if t.name == "respond")
    return evaluate(
        policy,
        examples,
        sweep=sorted({*SWEEP, shipped}),
        groups=fold_policies(policy, examples, k),
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    if not XCI.exists():
        print(f"skipped: {XCI} is not here")
        return 0
    started = time.perf_counter()
    result = cross_validated(args.folds)
    print(f"{result.examples} labelled tweets, {args.folds} folds (models retrained per fold)")
    print(f"{time.perf_counter() - started:.1f} s, training {2 * args.folds} models included")
    print("threshold  precision  recall     f1  severe(3-4) recall")
    for row in result.sweep:
        mark = "  <- shipped" if row.threshold == result.threshold else ""
        print(
            f"{row.threshold:9.2f}  {row.scores.precision:9.3f}  {row.scores.recall:6.3f}  "
            f"{row.scores.f1:5.3f}  {row.severe_recall or 0.0:6.3f}{mark}"
        )
    best = result.best()
    shipped = next(r for r in result.sweep if r.threshold == result.threshold)
    print(f"best F1 {best.scores.f1:.3f} at respond {best.threshold:.2f}  (must reach 0.75)")
    print(
        f"shipped respond {result.threshold:.2f}: F1 {shipped.scores.f1:.3f} (must reach 0.72), "
        f"severity 3-4 recall {shipped.severe_recall or 0.0:.3f} (must reach 0.90)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

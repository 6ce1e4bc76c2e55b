"""Cross-validated quality of the example policy end to end, on X-CI's labelled tweets.

Five folds; in each, the policy's classifiers are retrained on the other four and the whole
policy (classifiers and rule signals) triages the held-out fold. Prints complaint F1 at the
best respond threshold, and at the shipped one F1 and the recall of severity 3-4.
Run: python bench/policy_cv.py [--folds 5]
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from complaintflow.evaluation import SWEEP, Example, read_examples, with_threshold
from complaintflow.rules.compiler import compile_policy
from complaintflow.rules.triage import Triage
from complaintflow.training import Scores, dump_model, fit, folds

ROOT = Path(__file__).resolve().parent.parent
XCI = ROOT.parent / "shared" / "data" / "xci" / "train.csv"
POLICY = ROOT / "policies.example.yaml"
_BUILTIN = re.compile(r"builtin:(complaint|severity)")


@dataclasses.dataclass
class Fold:
    """One held-out fold: its examples and the models trained without them."""

    examples: list[Example]
    models: dict[str, Path]


def prepare(examples: Sequence[Example], k: int, workdir: Path) -> list[Fold]:
    """Train the complaint and severity models once per fold, without the held-out part."""
    labels = [int(e.complaint) for e in examples]
    out = []
    for number, held_out in enumerate(folds(labels, k)):
        test = set(held_out)
        train = [e for i, e in enumerate(examples) if i not in test]
        texts = [e.mention.text for e in train]
        models = {}
        for task, targets in (
            ("complaint", [int(e.complaint) for e in train]),
            ("severity", [e.severity or 0 for e in train]),
        ):
            path = workdir / f"fold{number}-{task}.cfmodel"
            dump_model(fit(texts, targets, task=task), path)
            models[task] = path
        out.append(Fold([examples[i] for i in held_out], models))
    return out


def policy_for(text: str, fold: Fold) -> str:
    """The policy text with its shipped models replaced by the fold's."""
    return _BUILTIN.sub(lambda m: str(fold.models[m[1]]), text)


@dataclasses.dataclass
class Result:
    shipped: float
    at: dict[float, tuple[Scores, float]]  # threshold -> (scores, severe recall)


def measure(text: str, prepared: list[Fold], sweep: Sequence[float] = SWEEP) -> Result:
    """Pool every fold's held-out decisions, at the shipped threshold and across the sweep."""
    truth: list[bool] = []
    severe: list[bool] = []
    opened: dict[float, list[bool]] = {t: [] for t in sweep}
    shipped = 0.0
    for fold in prepared:
        policy = compile_policy(policy_for(text, fold), name=str(POLICY))
        shipped = next(t.value for t in policy.thresholds if t.name == "respond")
        base = Triage(policy)
        values = base.values_many([e.mention for e in fold.examples])
        truth += [e.complaint for e in fold.examples]
        severe += [(e.severity or 0) >= 3 for e in fold.examples]
        for t in {*sweep, shipped}:
            variant = Triage(with_threshold(policy, "respond", t))
            opened.setdefault(t, []).extend(
                variant.decide_values(e.mention.id, dict(v), n).route is not None
                for e, (v, n) in zip(fold.examples, values, strict=True)
            )
    at = {}
    for t, flags in opened.items():
        hits = sum(f and s for f, s in zip(flags, severe, strict=True))
        at[t] = (Scores.of(truth, flags), hits / max(1, sum(severe)))
    return Result(shipped, at)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    if not XCI.exists():
        print(f"skipped: {XCI} is not here")
        return 0
    examples = read_examples(
        XCI, text_column="text", label_column="label", severity_column="severity"
    )
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        prepared = prepare(examples, args.folds, Path(workdir))
        trained = time.perf_counter() - started
        result = measure(POLICY.read_text(encoding="utf-8"), prepared)
    print(f"{len(examples)} labelled tweets, {args.folds} folds (models retrained per fold)")
    print(f"training {trained:.1f} s for {2 * args.folds} models")
    print("threshold  precision  recall     f1  severe(3-4) recall")
    for t, (scores, severe) in sorted(result.at.items()):
        mark = "  <- shipped" if t == result.shipped else ""
        print(
            f"{t:9.2f}  {scores.precision:9.3f}  {scores.recall:6.3f}  {scores.f1:5.3f}  "
            f"{severe:6.3f}{mark}"
        )
    best_t, (best, _) = max(result.at.items(), key=lambda kv: kv[1][0].f1)
    shipped, severe = result.at[result.shipped]
    print(f"best F1 {best.f1:.3f} at respond {best_t:.2f}  (must reach 0.75)")
    print(
        f"shipped respond {result.shipped:.2f}: F1 {shipped.f1:.3f} (must reach 0.72), "
        f"severity 3-4 recall {severe:.3f} (must reach 0.90)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A candidate model: the built-in model's examples plus a brand's own labels, weighted.

The built-in models learnt from tweets to other brands (shipped in models/examples, MIT);
a brand's supervisors' decisions say what counts as a complaint for that brand. Both train the
candidate, the brand's labels counted `weight` times each, a weight chosen by cross-validation
on the brand's labels (`choose_weight`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from complaintflow.learning.training import (
    DEFAULT_C,
    Labelled,
    Scores,
    TrainingError,
    featurise,
    fit,
    folds,
    read_labelled,
)
from complaintflow.rules.classifiers import Model
from complaintflow.rules.featuriser import Featuriser
from complaintflow.rules.model import CompiledPolicy

EXAMPLES = Path(__file__).resolve().parents[1] / "models" / "examples" / "xci-train.csv"
BASES = {"builtin:complaint": "complaint", "builtin:severity": "severity"}
# The brand weights cross-validation tries: each brand label counts this many built-in ones.
WEIGHTS = (1.0, 2.0, 4.0, 8.0, 16.0)
# Severity from labels that carry no level: the dismissals teach level 0, each counted this
# many times (no severe label to cross-validate on; see docs/learning.md).
DEFAULT_SEVERITY_WEIGHT = 4.0


def base_examples(base: str, task: str) -> Labelled:
    """The examples the built-in model named `base` learnt from; TrainingError if unknown."""
    if base not in BASES:
        raise TrainingError(f"--base {base!r}: use one of {', '.join(BASES)}")
    if BASES[base] != task:
        raise TrainingError(f"--base {base} is a {BASES[base]} model; this is --task {task}")
    return read_labelled(
        EXAMPLES,
        text_column="text",
        label_column="label" if task == "complaint" else "severity",
        task=task,
        id_column="id",
    )


@dataclasses.dataclass(frozen=True)
class WeightTrial:
    """The cross-validated scores of one brand weight."""

    weight: float
    scores: Scores


def train_with_base(
    base: Labelled,
    brand: Labelled,
    *,
    task: str,
    weight: float,
    trained_on: str = "",
) -> dict[str, Any]:
    """A model's data trained on `base` (weight 1) and `brand` (each counted `weight` times)."""
    if weight <= 0:
        raise TrainingError(f"--brand-weight {weight}: use a positive number")
    texts = [*base.texts, *brand.texts]
    labels = [*base.labels, *brand.labels]
    weights = [1.0] * len(base.texts) + [weight] * len(brand.texts)
    return fit(texts, labels, task=task, trained_on=trained_on, weights=weights)


def choose_weight(
    base: Labelled,
    brand: Labelled,
    *,
    task: str,
    k: int = 3,
    grid: Sequence[float] = WEIGHTS,
    c: float = DEFAULT_C,
    report: Callable[[str], None] = print,
) -> list[WeightTrial]:
    """Each weight of `grid` cross-validated on the brand's labels (k folds: learn from the
    base and k-1 folds, score the held-out fold at probability 0.5); best first (F1, then
    precision). The texts are featurised once, over all of them (the n-gram vocabulary sees
    the held-out texts, never their labels), so the k x len(grid) fits take seconds."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    counts = {label: brand.labels.count(label) for label in set(brand.labels)}
    if len(counts) < 2 or min(counts.values()) < k:
        raise TrainingError(
            f"choosing the brand weight by {k}-fold cross-validation needs at least {k} labels "
            "of each class; give --brand-weight instead"
        )
    features, _ = featurise([*base.texts, *brand.texts], Featuriser(tone_word=True))
    offset = len(base.texts)
    targets = np.asarray([*base.labels, *brand.labels])
    severe = 1 if task == "complaint" else 3
    truth = [label >= severe for label in brand.labels]
    parts = folds(brand.labels, k)
    trials = []
    for weight in grid:
        predicted = [False] * len(brand.texts)
        for held_out in parts:
            test = set(held_out)
            rows = [*range(offset), *(offset + i for i in range(len(brand.texts)) if i not in test)]
            weights = np.asarray([1.0 if r < offset else weight for r in rows])
            model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
            model.fit(features[rows], targets[rows], sample_weight=weights)
            probabilities = model.predict_proba(features[[offset + i for i in held_out]])
            classes = list(model.classes_)
            for i, p in zip(held_out, probabilities, strict=True):
                predicted[i] = sum(p[j] for j, v in enumerate(classes) if v >= severe) >= 0.5
        trial = WeightTrial(weight, Scores.of(truth, predicted))
        report(f"brand weight {weight:g}: {trial.scores}")
        trials.append(trial)
    return sorted(trials, key=lambda t: (-t.scores.f1, -t.scores.precision, t.weight))


def with_candidate(policy: CompiledPolicy, model: Model) -> CompiledPolicy:
    """The policy with its classifiers of `model`'s task reading `model` instead (loaded)."""
    refs = tuple(
        dataclasses.replace(ref, sha256=model.sha256, model=model.source)
        if ref.task == model.task
        else ref
        for ref in policy.classifiers
    )
    if refs == policy.classifiers:
        raise TrainingError(f"the policy reads no {model.task} classifier to replace")
    return dataclasses.replace(
        policy, classifiers=refs, content_hash=f"{policy.content_hash}:{model.sha256}"
    )

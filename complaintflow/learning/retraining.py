"""A policy's classifiers retrained fold by fold, so a policy is measured on texts its models
did not learn from (`complaintflow evaluate --folds K`).

The labelled history an ops team evaluates on is often the history its models learnt from;
on those texts a model looks far better than it will on tomorrow's mentions. Here each fold's
examples are decided by the policy with models trained, as `complaintflow train` trains
them (same task, featuriser and language), on the other folds only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from complaintflow.learning.evaluation import Example, Group
from complaintflow.learning.training import TrainingError, fit, folds, pack_model
from complaintflow.rules.classifiers import Model, load_packed
from complaintflow.rules.model import ClassifierRef, CompiledPolicy
from complaintflow.rules.triage import classifiers_for


def fold_policies(policy: CompiledPolicy, examples: Sequence[Example], k: int) -> list[Group]:
    """k variants of `policy`, each with its classifiers retrained without one fold, and the
    fold each is to decide. Raise TrainingError saying what is missing."""
    classifiers = classifiers_for(policy)
    if classifiers is None:
        raise TrainingError("the policy declares no classifiers: there is nothing to retrain")
    if k < 2 or k > len(examples):
        raise TrainingError(f"--folds {k}: use 2 to {len(examples)} folds")
    for name, model in classifiers.models.items():
        if model.task == "severity" and any(e.severity is None for e in examples):
            raise TrainingError(
                f"classifier {name} is a severity model: retraining it needs the severity of "
                "every row (--severity-column)"
            )
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise TrainingError(
            "--folds retrains the policy's classifiers: pip install 'complaintflow[train]'"
        ) from None
    groups: list[Group] = []
    for number, held_out in enumerate(folds([int(e.complaint) for e in examples], k)):
        test = set(held_out)
        train = [e for i, e in enumerate(examples) if i not in test]
        try:
            refs = tuple(
                _retrained(ref, classifiers.models[ref.name], train) for ref in policy.classifiers
            )
        except TrainingError as exc:
            raise TrainingError(
                f"fold {number + 1} of {k}: {exc}; use fewer folds or more labelled rows"
            ) from None
        variant = dataclasses.replace(
            policy, classifiers=refs, content_hash=f"{policy.content_hash}:fold{number}of{k}"
        )
        groups.append((variant, held_out))
    return groups


def _retrained(ref: ClassifierRef, model: Model, train: list[Example]) -> ClassifierRef:
    """`ref` pointing at a model like `model`, trained on the `train` examples only."""
    if model.task == "complaint":
        targets = [int(e.complaint) for e in train]
    else:
        targets = [e.severity or 0 for e in train]
    data = fit(
        [e.mention.text for e in train],
        targets,
        task=model.task,
        featuriser=model.featuriser,
        trained_on=f"{len(train)} rows of the evaluated file",
    )
    data["language"] = model.language
    retrained = load_packed(pack_model(data), f"{ref.name}, retrained without one fold")
    return dataclasses.replace(ref, sha256=retrained.sha256)

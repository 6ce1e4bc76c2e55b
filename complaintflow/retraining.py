"""A policy's classifiers retrained fold by fold, so a policy is measured on texts its models
did not learn from (`complaintflow evaluate --folds K`).

The labelled history an ops team evaluates on is often the history its models learnt from;
on those texts a model looks far better than it will on tomorrow's mentions. Here each fold's
examples are decided by the policy with models trained, as `complaintflow train` trains
them (same task, featuriser and language), on the other folds only.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Sequence
from pathlib import Path

from complaintflow.rules.classifiers import Model, load_model, loaded
from complaintflow.rules.model import ClassifierRef, CompiledPolicy
from complaintflow.training import TrainingError, dump_model, fit, folds

Group = tuple[CompiledPolicy, list[int]]  # a policy, and the examples (indices) it decides


@dataclasses.dataclass(frozen=True)
class Labels:
    """What each labelled example says: a complaint or not, and its severity if labelled."""

    texts: Sequence[str]
    complaints: Sequence[bool]
    severities: Sequence[int | None]


def fold_policies(policy: CompiledPolicy, labels: Labels, k: int) -> list[Group]:
    """k variants of `policy`, each with its classifiers retrained without one fold, and the
    fold each is to decide. Raise TrainingError saying what is missing."""
    if not policy.classifiers:
        raise TrainingError("the policy declares no classifiers: there is nothing to retrain")
    if k < 2 or k > len(labels.texts):
        raise TrainingError(f"--folds {k}: use 2 to {len(labels.texts)} folds")
    models = {ref.name: _model(ref) for ref in policy.classifiers}
    for name, model in models.items():
        if model.task == "severity" and any(s is None for s in labels.severities):
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
    with tempfile.TemporaryDirectory() as workdir:
        for number, held_out in enumerate(folds([int(c) for c in labels.complaints], k)):
            test = set(held_out)
            train = [i for i in range(len(labels.texts)) if i not in test]
            try:
                refs = tuple(
                    _retrained(ref, models[ref.name], labels, train, Path(workdir) / f"{number}")
                    for ref in policy.classifiers
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


def _model(ref: ClassifierRef) -> Model:
    model = loaded(ref.sha256)
    if model is None:  # compile the policy file first: it loads and checks each model
        raise TrainingError(f"classifier {ref.name}: its model is not loaded")
    return model


def _retrained(
    ref: ClassifierRef, model: Model, labels: Labels, train: list[int], directory: Path
) -> ClassifierRef:
    """`ref` pointing at a model like `model`, trained on the `train` rows only."""
    if model.task == "complaint":
        targets = [int(labels.complaints[i]) for i in train]
    else:
        targets = [labels.severities[i] or 0 for i in train]
    data = fit(
        [labels.texts[i] for i in train],
        targets,
        task=model.task,
        featuriser=model.featuriser,
        trained_on=f"{len(train)} rows of the evaluated file",
    )
    data["language"] = model.language
    path = directory / f"{ref.name}.cfmodel"
    dump_model(data, path)
    return dataclasses.replace(ref, sha256=load_model(path).sha256)

"""The weekly retraining a Schedule runs: export a brand's labels, train a candidate, compare
it with the live model, and say whether to promote it (see workflows/retrain.py).

`complaintflow retrain --policy FILE` creates (or updates) the Schedule `retrain-POLICY`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from temporalio.client import (
    Client,
)

from complaintflow.client.schedules import schedule_every
from complaintflow.learning.labels import Label, export_csv
from complaintflow.workflows.retrain import Retrain, RetrainResult, RetrainSettings


def schedule_id(settings: RetrainSettings) -> str:
    return f"retrain-{settings.policy}"


async def schedule_retraining(client: Client, settings: RetrainSettings, task_queue: str) -> str:
    """Create or update the policy's retraining Schedule; return its id."""
    return await schedule_every(
        client,
        schedule_id(settings),
        run=Retrain.run,
        arg=settings,
        workflow_id=f"retrain-{settings.policy}",
        every_seconds=settings.every_seconds,
        task_queue=task_queue,
    )


def retrain(settings: RetrainSettings, labels: list[Label], stamp: str) -> RetrainResult:
    """Train a candidate on `labels` and compare it with the live model (blocking: minutes)."""
    from complaintflow.learning.candidates import (
        DEFAULT_SEVERITY_WEIGHT,
        base_examples,
        choose_weight,
        train_with_base,
        with_candidate,
    )
    from complaintflow.learning.comparison import compare, format_comparison
    from complaintflow.learning.evaluation import Example
    from complaintflow.learning.labels import after, read_label_file, rows_of, split_by_time
    from complaintflow.learning.training import Labelled, TrainingError, dump_model
    from complaintflow.rules.classifiers import load_model
    from complaintflow.rules.compiler import load_policy
    from complaintflow.rules.mention import Mention

    wanted = 5 * settings.min_labels  # a fifth of them is held out to judge on
    if len(labels) < wanted:
        return RetrainResult(
            False, f"too few labels: {len(labels)}, {wanted} needed (a fifth held out to judge)"
        )
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return RetrainResult(False, "the worker cannot train: pip install 'complaintflow[train]'")
    out = Path(settings.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    exported = out / f"labels-{stamp}.csv"
    export_csv(labels, exported)
    try:
        policy = load_policy(Path(settings.policy_file))
        data = read_label_file(exported)
        learn, _ = split_by_time(data, 0.2)
        brand = rows_of(data, learn)
        base = base_examples("builtin:complaint", "complaint")
        weight = choose_weight(base, brand, task="complaint", report=lambda _: None)[0].weight
        model = train_with_base(
            base,
            brand,
            task="complaint",
            weight=weight,
            trained_on=f"builtin:complaint + {len(learn)} labels (brand weight {weight:g})",
        )
        model["learnt_until"] = max(data.times[i] for i in learn)
        path = out / f"complaint-{stamp}.cfmodel"
        dump_model(model, path)
        candidate = load_model(path)
        # The dismissals teach the severity model that those posts are no complaint at all.
        dismissed = [i for i, label in enumerate(brand.labels) if label == 0]
        severity = train_with_base(
            base_examples("builtin:severity", "severity"),
            Labelled(
                [brand.texts[i] for i in dismissed], [0] * len(dismissed), [""] * len(dismissed)
            ),
            task="severity",
            weight=DEFAULT_SEVERITY_WEIGHT,
            trained_on=f"builtin:severity + {len(dismissed)} dismissals",
        )
        severity["learnt_until"] = model["learnt_until"]
        severity_path = out / f"severity-{stamp}.cfmodel"
        dump_model(severity, severity_path)
        live = with_candidate(with_candidate(policy, candidate), load_model(severity_path))
        rows = after(data, candidate.learnt_until)
        examples = [
            Example(
                Mention(id=data.data.ids[i], text=data.data.texts[i]), bool(data.data.labels[i])
            )
            for i in rows
        ]
        result = compare(policy, live, examples)
    except TrainingError as exc:
        return RetrainResult(False, f"could not train: {exc}")
    changes = [
        f'classifiers.{ref.name}.model: "{path if ref.task == "complaint" else severity_path}"'
        for ref in policy.classifiers
    ]
    promote = f"set {', '.join(changes)} in {settings.policy_file}"
    good, _ = result.verdict(min_labels=settings.min_labels)
    report = format_comparison(result, since=candidate.learnt_until, promote=promote)
    return RetrainResult(good, report, str(path))


async def retrain_in_thread(
    settings: RetrainSettings, labels: list[Label], stamp: str
) -> RetrainResult:
    return await asyncio.to_thread(retrain, settings, labels, stamp)

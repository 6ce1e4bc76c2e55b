"""The learning loop's commands: export the supervisors' `labels`, `train --base` a candidate
on the built-in examples plus them, and `evaluate --candidate` it against the live model."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from complaintflow.cli.common import OK, print_text, read_store, run_temporal
from complaintflow.cli.options import database_option, temporal_options
from complaintflow.errors import CommandFailed, UsageError
from complaintflow.learning.training import Labelled


def register(commands: Any) -> None:
    """labels, retrain (the options of train and evaluate are declared with them, in
    learning.py)."""
    labels = commands.add_parser(
        "labels", help="export a brand's labels (its supervisors' decisions) to a CSV"
    )
    labels.add_argument("--policy", required=True, metavar="NAME", help="the policy's name")
    labels.add_argument("--out", type=Path, required=True, metavar="labels.csv")
    database_option(labels)
    labels.set_defaults(handler=_labels)

    retrain = commands.add_parser(
        "retrain",
        help="schedule retraining from a brand's labels: weekly, a candidate is trained, "
        "compared with the live model and the team told (a Temporal Schedule)",
    )
    retrain.add_argument("--policy", type=Path, required=True, metavar="FILE")
    retrain.add_argument("--every", default="7d", help="how often (default 7d)")
    retrain.add_argument(
        "--out-dir",
        type=Path,
        default=Path(".complaintflow/candidates"),
        help="where the worker writes candidates (default .complaintflow/candidates)",
    )
    retrain.add_argument(
        "--min-labels", type=int, default=100, help="held-out labels needed to judge (100)"
    )
    retrain.add_argument("--notify", default="slack", help="notify via (default slack)")
    retrain.add_argument("--target", default="", help="notify target, e.g. #social-care-leads")
    temporal_options(retrain, task_queue=True)
    retrain.set_defaults(handler=_retrain)


def _retrain(args: argparse.Namespace) -> int:
    from complaintflow.client.cases import connect
    from complaintflow.learning.weekly import schedule_retraining
    from complaintflow.rules.compiler import load_policy
    from complaintflow.rules.durations import parse_duration
    from complaintflow.workflows.retrain import RetrainSettings

    policy = load_policy(args.policy)
    every = parse_duration(args.every)
    if not every:
        raise UsageError(f"--every {args.every!r} is not a duration such as 7d or 12h")
    if args.min_labels < 1:
        raise UsageError(f"--min-labels {args.min_labels}: use 1 or more")
    settings = RetrainSettings(
        policy=policy.name,
        policy_file=str(args.policy.resolve()),
        out_dir=str(args.out_dir.resolve()),
        min_labels=args.min_labels,
        every_seconds=every,
        via=args.notify,
        target=args.target,
    )

    async def run() -> str:
        client = await connect(args.profile)
        return await schedule_retraining(client, settings, args.task_queue)

    print(
        f"schedule {run_temporal(run)}: every {args.every}, train a candidate on "
        f"{policy.name}'s labels, compare it with the live model and notify {args.notify} "
        f"{args.target}".rstrip()
        + " (workers need the decision store: COMPLAINTFLOW_DATABASE_URL)"
    )
    return OK


def base_options(train: argparse.ArgumentParser) -> None:
    """`train --base`: the built-in examples plus the brand's labels."""
    train.add_argument(
        "--base",
        metavar="builtin:complaint",
        help="also learn from the examples this built-in model learnt from (shipped with "
        "complaintflow), the rows of LABELLED.csv counted --brand-weight times each",
    )
    train.add_argument(
        "--brand-weight",
        default="auto",
        help="with --base: how many built-in examples one of the brand's labels counts for; "
        "auto (default): chosen by 3-fold cross-validation on the brand's labels",
    )
    train.add_argument(
        "--holdout",
        type=float,
        default=0.2,
        help="with --base: the share of the most recent labels NOT learnt from, kept for "
        "`evaluate --candidate` (default 0.2; 0 learns from all)",
    )


def candidate_options(evaluate: argparse.ArgumentParser) -> None:
    evaluate.add_argument(
        "--shadow",
        action="store_true",
        help="compare the live and the shadow model on live traffic: the decisions in the "
        "store (--database) that recorded both, for the mentions LABELLED.csv labels",
    )
    database_option(evaluate)
    evaluate.add_argument(
        "--candidate",
        type=Path,
        action="append",
        metavar="MODEL",
        help="compare the policy with this model in place of its classifier of the same "
        "task, on the labels newer than any the candidate learnt from (once per task)",
    )


def _labels(args: argparse.Namespace) -> int:
    from complaintflow.learning.labels import export_csv

    labels = read_store(args.database, lambda store: store.labels(args.policy))
    try:
        count = export_csv(labels, args.out)
    except OSError as exc:
        raise CommandFailed(f"cannot write {str(args.out)!r}: {exc.strerror}") from None
    print(f"wrote {count} label{'s' if count != 1 else ''} of policy {args.policy} to {args.out}")
    return OK


def train_with_base(args: argparse.Namespace, language: str) -> int:
    """`train LABELS --base builtin:...`: a candidate model, its weighting chosen or given."""
    from complaintflow.learning.candidates import (
        DEFAULT_SEVERITY_WEIGHT,
        base_examples,
        choose_weight,
    )
    from complaintflow.learning.candidates import train_with_base as train
    from complaintflow.learning.labels import read_label_file, rows_of, split_by_time
    from complaintflow.learning.training import TrainingError, check_destination, dump_model

    try:
        check_destination(args.out)
        base = base_examples(args.base, args.task)
        labels = read_label_file(
            args.data, text_column=args.text_column, label_column=args.label_column
        )
        learn, held = split_by_time(labels, args.holdout)
        brand = rows_of(labels, learn)
        if args.task == "severity":
            brand = severities(args.data, brand)
            if not brand.texts:
                raise TrainingError(
                    f"{args.data}: no label to learn severity from: no dismissal (label 0) and "
                    "no complaint with its level in column 'severity'"
                )
        elif len(set(brand.labels)) < 2:
            raise TrainingError(
                f"{args.data}: the {len(learn)} older labels learnt from are all of class "
                f"{brand.labels[0]}; label more, or lower --holdout"
            )
        print(
            f"{len(base.texts)} built-in examples ({args.base}) + {len(brand.texts)} of the "
            f"brand's labels; the {len(held)} most recent held out for evaluate --candidate"
        )
        weight = _weight(args.brand_weight)
        if weight is None and args.task == "severity" and max(brand.labels) < 3:
            weight = DEFAULT_SEVERITY_WEIGHT
            print(
                f"brand weight {weight:g} (not cross-validated: no label says a complaint was "
                "severe; the brand's dismissals teach severity 0)"
            )
        if weight is None:
            trials = choose_weight(base, brand, task=args.task)
            weight = trials[0].weight
            print(f"brand weight {weight:g} (the best cross-validated F1)")
        model = train(
            base,
            brand,
            task=args.task,
            weight=weight,
            trained_on=f"{args.base} examples + {len(learn)} labels of {args.data.name} "
            f"(brand weight {weight:g})",
        )
        model["language"] = language
        model["learnt_until"] = max(labels.times[i] for i in learn)
        sha256 = dump_model(model, args.out)
    except TrainingError as exc:
        raise CommandFailed(str(exc)) from None
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({size / 1024:.0f} KiB, sha256 {sha256[:12]})")
    return OK


def severities(path: Path, brand: Labelled) -> Labelled:
    """The brand's labels as severity levels: a dismissal is level 0; a complaint counts
    only with its level (column `severity`, 1 to 4), unknown otherwise."""
    from complaintflow.learning.labels import severity_levels

    levels = severity_levels(path)
    keep = [
        i
        for i, ident in enumerate(brand.ids)
        if brand.labels[i] == 0 or levels.get(ident) is not None
    ]
    return Labelled(
        [brand.texts[i] for i in keep],
        [0 if brand.labels[i] == 0 else levels[brand.ids[i]] or 0 for i in keep],
        [brand.ids[i] for i in keep],
    )


def _weight(text: str) -> float | None:
    """The --brand-weight given: None for auto."""
    if text == "auto":
        return None
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 1000:
        raise UsageError(f"--brand-weight {text!r}: write auto or a number above 0 (e.g. 4)")
    return value


def evaluate_shadow(args: argparse.Namespace) -> int:
    """`evaluate POLICY LABELS --shadow`: live against shadow, as decided on live traffic."""
    from complaintflow.learning.comparison import compare_decided, format_comparison
    from complaintflow.learning.evaluation import Example
    from complaintflow.learning.labels import read_label_file
    from complaintflow.learning.training import TrainingError
    from complaintflow.rules.compiler import load_policy
    from complaintflow.rules.mention import Mention

    policy = load_policy(args.policy)
    try:
        labels = read_label_file(
            args.data, text_column=args.text_column, label_column=args.label_column
        )
    except TrainingError as exc:
        raise CommandFailed(str(exc)) from None
    decided = {
        f"{r.get('platform', 'x')}:{r.get('id')}": r
        for r in read_store(args.database, lambda store: store.decisions())
        if r.get("policy") == policy.name and isinstance(r.get("shadow"), dict)
    }
    data = labels.data
    rows = [i for i, ident in enumerate(data.ids) if ident in decided]
    if not rows:
        raise CommandFailed(
            f"no decision of policy {policy.name} in the store recorded a shadow for a mention "
            f"{args.data} labels: run a shadow (classifiers: {{NAME: {{model: ..., shadow: "
            "FILE}}) and export the labels again"
        )
    examples = [
        Example(Mention(id=data.ids[i], text=data.texts[i]), bool(data.labels[i])) for i in rows
    ]
    records = [decided[data.ids[i]] for i in rows]
    result = compare_decided(
        examples,
        [r.get("route") is not None for r in records],
        [r["shadow"].get("route") is not None for r in records],
    )
    shadows = [f'classifiers.{r.name}.model: "{r.shadow}"' for r in policy.classifiers if r.shadow]
    promote = f"set {', '.join(shadows)} in {args.policy}"
    print_text(format_comparison(result, since="", promote=promote, on="live traffic"))
    return OK


def evaluate_candidate(args: argparse.Namespace) -> int:
    """`evaluate POLICY LABELS --candidate MODEL`: the live policy against the candidate."""
    from complaintflow.learning.candidates import with_candidate
    from complaintflow.learning.comparison import compare, format_comparison
    from complaintflow.learning.evaluation import Example
    from complaintflow.learning.labels import after, read_label_file
    from complaintflow.learning.training import TrainingError
    from complaintflow.rules.classifiers import load_model
    from complaintflow.rules.compiler import load_policy
    from complaintflow.rules.mention import Mention
    from complaintflow.rules.model_file import ModelError

    policy = load_policy(args.policy)
    models = []
    for path in args.candidate:
        try:
            models.append(load_model(path, cached=False))
        except ModelError as exc:
            raise CommandFailed(f"refused the candidate: {exc}") from None
    try:
        candidate = policy
        for path, model in zip(args.candidate, models, strict=True):
            if not model.learnt_until:
                raise TrainingError(
                    f"{path} does not say which labels it learnt from (train it with --base): "
                    "evaluate it on labels it never saw with --folds or another file"
                )
            candidate = with_candidate(candidate, model)
        labels = read_label_file(
            args.data, text_column=args.text_column, label_column=args.label_column
        )
        since = max(model.learnt_until for model in models)
        rows = after(labels, since)
        data = labels.data
        examples = [
            Example(Mention(id=data.ids[i], text=data.texts[i]), bool(data.labels[i])) for i in rows
        ]
        if not examples:
            raise TrainingError(
                f"{args.data}: no label is newer than the candidate's ({since}); "
                "export the labels again once supervisors have decided more"
            )
        result = compare(policy, candidate, examples)
    except TrainingError as exc:
        raise CommandFailed(str(exc)) from None
    changes = [
        f'classifiers.{ref.name}.model: "{path}"'
        for path, model in zip(args.candidate, models, strict=True)
        for ref in policy.classifiers
        if ref.task == model.task
    ]
    promote = f"set {', '.join(changes)} in {args.policy}"
    print_text(format_comparison(result, since=since, promote=promote))
    return OK

"""`train` a classifier from labelled mentions and `evaluate` a policy on labelled history
(what it would have opened, recall by severity, a threshold to meet a target)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from complaintflow.cli.authors import loop
from complaintflow.cli.common import OK, print_text
from complaintflow.errors import CommandFailed, UsageError
from complaintflow.rules.compiler import load_policy
from complaintflow.rules.model import CompiledPolicy


def register(commands: Any) -> None:
    """`train` a classifier from labelled mentions; `evaluate` a policy on labelled history."""
    train = commands.add_parser("train", help="train a classifier from a labelled CSV")
    train.add_argument("data", type=Path, metavar="LABELLED.csv")
    train.add_argument("--text-column", default="text")
    train.add_argument("--label-column", default="label")
    train.add_argument(
        "--task",
        choices=("complaint", "severity"),
        default="complaint",
        help="complaint: labels 0/1; severity: labels 0 (none) to 4",
    )
    train.add_argument("--out", type=Path, required=True, help="the model file to write")
    train.add_argument("--folds", type=int, default=5, help="cross-validation folds (0: none)")
    train.add_argument(
        "--language",
        default="en",
        help="ISO 639-1 code of the texts (default en): the compiler warns when a policy "
        "reads the model's output for mentions in other languages",
    )
    loop.base_options(train)
    train.set_defaults(handler=_train)

    evaluate = commands.add_parser(
        "evaluate", help="measure a policy on labelled mentions (what it would have opened)"
    )
    evaluate.add_argument("policy", type=Path, metavar="POLICY")
    evaluate.add_argument("data", type=Path, metavar="LABELLED.csv")
    evaluate.add_argument("--text-column", default="text")
    evaluate.add_argument("--label-column", default="label", help="1 = a complaint to answer")
    evaluate.add_argument("--severity-column", help="severity 0..4, for recall by severity")
    evaluate.add_argument("--id-column")
    evaluate.add_argument("--threshold", default="respond", help="the threshold to sweep")
    evaluate.add_argument("--target-recall", type=float, help="suggest a threshold meeting it")
    evaluate.add_argument(
        "--on", default="severity>=3", help="where the target recall applies (severity>=N)"
    )
    evaluate.add_argument("--misses", type=int, default=10, help="worst misses to show")
    evaluate.add_argument(
        "--folds",
        type=int,
        default=0,
        help="retrain the policy's classifiers K times, each without one K-th of the file, "
        "and decide that part with them (for history the models learnt from; needs "
        "scikit-learn)",
    )
    evaluate.add_argument("--html", type=Path, help="also write charts to this HTML file")
    evaluate.add_argument("--json", action="store_true", help="print the measures as JSON")
    loop.candidate_options(evaluate)
    evaluate.set_defaults(handler=_evaluate)
    loop.register(commands)


def _train(args: argparse.Namespace) -> int:
    from complaintflow.learning.training import (
        TrainingError,
        check_destination,
        cross_validate,
        dump_model,
        fit,
        read_labelled,
    )

    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise CommandFailed(
            "training needs scikit-learn: pip install 'complaintflow[train]'"
        ) from None
    language = args.language.lower()
    if len(language) != 2 or not language.isalpha() or not language.isascii():
        raise UsageError(f"--language {args.language!r} is not an ISO 639-1 code such as es")
    if args.base:
        return loop.train_with_base(args, language)
    try:
        check_destination(args.out)
        data = read_labelled(
            args.data, text_column=args.text_column, label_column=args.label_column, task=args.task
        )
        classes = sorted(set(data.labels))
        print(f"{len(data.texts)} labelled rows; classes {classes}")
        if args.folds >= 2:
            what = "complaint" if args.task == "complaint" else "severity >= 3"
            print(f"{args.folds}-fold cross-validation ({what}, at probability 0.5):")
            scores = cross_validate(data, task=args.task, k=args.folds)
            print(f"cross-validated  {scores}")
        model = {**fit(data.texts, data.labels, task=args.task, trained_on=args.data.name)}
        model["language"] = language
        sha256 = dump_model(model, args.out)
    except TrainingError as exc:
        raise CommandFailed(str(exc)) from None
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({size / 1024:.0f} KiB, sha256 {sha256[:12]})")
    return OK


def _learnt_from(policy: CompiledPolicy, data: Path) -> list[str]:
    """The policy's classifiers whose model was trained on a file named like `data`."""
    from complaintflow.rules.triage import classifiers_for

    classifiers = classifiers_for(policy)
    models = classifiers.models if classifiers is not None else {}
    return [name for name, model in models.items() if model.trained_on == data.name]


def _evaluate(args: argparse.Namespace) -> int:
    import re

    from complaintflow.learning.evaluation import evaluate, format_report, read_examples, write_html
    from complaintflow.learning.retraining import fold_policies
    from complaintflow.learning.training import TrainingError

    if args.shadow:
        return loop.evaluate_shadow(args)
    if args.candidate is not None:
        return loop.evaluate_candidate(args)
    policy = load_policy(args.policy)
    on = re.fullmatch(r"\s*severity\s*>=\s*([0-4])\s*", args.on)
    if on is None:
        raise UsageError(f"--on {args.on!r}: write severity>=N with N from 0 to 4")
    if args.target_recall is not None and not args.severity_column:
        raise UsageError("--target-recall needs --severity-column")
    try:
        examples = read_examples(
            args.data,
            text_column=args.text_column,
            label_column=args.label_column,
            severity_column=args.severity_column,
            id_column=args.id_column,
        )
        groups = None
        if args.folds:
            groups = fold_policies(policy, examples, args.folds)
        result = evaluate(
            policy,
            examples,
            threshold_name=args.threshold,
            severe_from=int(on[1]),
            misses=args.misses,
            groups=groups,
        )
    except TrainingError as exc:
        raise CommandFailed(str(exc)) from None
    if args.json:
        print_text(json.dumps(result.to_dict(), indent=2))
    else:
        print_text(format_report(result, args.target_recall))
    for name in [] if args.folds else _learnt_from(policy, args.data):
        print(
            f"note: classifier {name} was trained on a file named {args.data.name!r}: on the "
            "texts a model learnt from, these numbers flatter the policy; measure it on "
            "labelled history the model has not seen, or with --folds 5",
            file=sys.stderr,
        )
    if args.html:
        write_html(result, args.html)
        print(f"wrote {args.html}", file=sys.stderr)
    return OK

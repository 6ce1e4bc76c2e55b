"""Policy test suites: YAML files of mentions with the route, score and steps they must get.

A suite (`NAME.tests.yaml`, usually beside the policy) looks like:

    policy: ../policies.example.yaml      # relative to the suite file
    tests:
      - name: an order that never arrived is answered
        mention: {text: "@NorthwindCares my order never arrived", author: {followers: 40}}
        expect: {route: respond, score: {min: 0.45}, steps: [reply_acknowledge, ...]}
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from complaintflow.errors import Diagnostic, PolicyError
from complaintflow.rules.compiler import load_policy
from complaintflow.rules.mention import Mention, MentionError
from complaintflow.rules.source import Document, load_yaml
from complaintflow.rules.triage import Decision, StepOutlook, Triage

SUITE_SUFFIX = ".tests.yaml"
_EXPECT_KEYS = {"route", "playbook", "score", "signals", "steps", "language"}


@dataclasses.dataclass(frozen=True)
class CaseResult:
    """One test: passed, or the differences between expected and actual."""

    suite: str
    name: str
    line: int
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failures


def find_suites(paths: list[Path]) -> list[Path]:
    """Every suite file named by `paths` (files, or folders searched recursively)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(path.rglob(f"*{SUITE_SUFFIX}")))
        else:
            found.append(path)
    return found


def run_suite(path: Path) -> list[CaseResult]:
    """Run one suite; raise PolicyError when the suite or its policy is invalid."""
    doc = load_yaml(path)
    data = doc.data
    problems: list[Diagnostic] = []
    if not isinstance(data, dict) or not isinstance(data.get("policy"), str):
        raise PolicyError(
            [
                doc.diagnostic(
                    (),
                    "a test suite starts with `policy: PATH`",
                    "name the policy file, relative to this file",
                )
            ]
        )
    tests = data.get("tests")
    if not isinstance(tests, list) or not tests:
        raise PolicyError(
            [
                doc.diagnostic(
                    ("tests",),
                    "`tests:` must be a non-empty list",
                    "add `- {name: ..., mention: {...}, expect: {...}}`",
                )
            ]
        )
    policy_path = path.parent / data["policy"]
    if not policy_path.exists():
        raise PolicyError(
            [
                doc.diagnostic(
                    ("policy",),
                    f"no policy file at {policy_path}",
                    "give the path relative to this suite",
                )
            ]
        )
    triage = Triage(load_policy(policy_path))
    prepared: list[tuple[int, str, Mention, dict[str, Any]]] = []
    for index, test in enumerate(tests):
        checked = _check_test(doc, index, test, problems)
        if checked is not None:
            prepared.append(checked)
    if problems:
        raise PolicyError(problems)
    results = []
    for index, name, mention, expect in prepared:
        line = doc.at(("tests", index)).line
        results.append(CaseResult(str(path), name, line, _compare(triage, mention, expect)))
    return results


def _check_test(
    doc: Document, index: int, test: Any, problems: list[Diagnostic]
) -> tuple[int, str, Mention, dict[str, Any]] | None:
    where = ("tests", index)
    if not isinstance(test, dict):
        problems.append(doc.diagnostic(where, "a test is a mapping with name, mention, expect"))
        return None
    for key in test:
        if key not in ("name", "mention", "expect"):
            problems.append(
                doc.diagnostic(
                    (*where, key),
                    f"unknown key {key!r} in a test",
                    "use name, mention and expect",
                    key=True,
                )
            )
    name = str(test.get("name", f"test {index + 1}"))
    try:
        mention = Mention.from_dict(test.get("mention"))
    except MentionError as exc:
        problems.append(doc.diagnostic((*where, "mention"), str(exc)))
        return None
    expect = test.get("expect")
    if not isinstance(expect, dict) or not expect:
        problems.append(
            doc.diagnostic(
                (*where, "expect"),
                "`expect:` must say what to check",
                "add route, playbook, score, signals or steps",
            )
        )
        return None
    for key in expect:
        if key not in _EXPECT_KEYS:
            problems.append(
                doc.diagnostic(
                    (*where, "expect", key),
                    f"unknown key {key!r} in expect",
                    "use " + ", ".join(sorted(_EXPECT_KEYS)),
                    key=True,
                )
            )
    return index, name, mention, expect


def _compare(triage: Triage, mention: Mention, expect: dict[str, Any]) -> tuple[str, ...]:
    decision = triage.decide(mention)
    failures: list[str] = []
    if "route" in expect and expect["route"] != decision.route:
        failures.append(f"route: expected {expect['route']}, got {decision.route}")
    if "playbook" in expect and expect["playbook"] != decision.playbook:
        failures.append(f"playbook: expected {expect['playbook']}, got {decision.playbook}")
    if "language" in expect and expect["language"] != decision.language:
        failures.append(
            f"language: expected {expect['language']}, got {decision.language} "
            f"(confidence {decision.language_confidence})"
        )
    failures.extend(_score(expect.get("score"), decision))
    failures.extend(_signals(expect.get("signals"), decision))
    if "steps" in expect:
        steps = [
            p.step.id
            for p in triage.plan(mention, decision)
            if p.outlook is not StepOutlook.SKIPPED
        ]
        if list(expect["steps"] or []) != steps:
            failures.append(f"steps: expected {expect['steps']}, got {steps}")
    failures.extend(f"error: {e}" for e in decision.errors)
    return tuple(failures)


def _score(score: Any, decision: Decision) -> list[str]:
    """`score: 0.7` must match exactly; `score: {min: .., max: ..}` bounds it."""
    if isinstance(score, (int, float)) and abs(score - decision.score) > 1e-9:
        return [f"score: expected {score}, got {decision.score}"]
    if isinstance(score, dict):
        low, high = score.get("min", 0.0), score.get("max", 1.0)
        if not low <= decision.score <= high:
            return [f"score: expected between {low} and {high}, got {decision.score}"]
    return []


def _signals(signals: Any, decision: Decision) -> list[str]:
    """`signals: {name: held}` checks each; `signals: [names]` is exactly those held."""
    if isinstance(signals, dict):
        held = {s.name: s.held for s in decision.signals}
        failures = []
        for name, wanted in signals.items():
            if name not in held:
                failures.append(f"signals.{name}: no such signal in the policy")
            elif held[name] != wanted:
                failures.append(f"signals.{name}: expected {wanted}, got {held[name]}")
        return failures
    if isinstance(signals, list) and sorted(signals) != sorted(decision.held):
        return [f"signals: expected {sorted(signals)}, got {sorted(decision.held)}"]
    return []

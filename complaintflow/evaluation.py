"""Measuring a policy on labelled history: what it would have opened, and what it missed.

Precision/recall/F1 of "opened a case", recall per severity, the confusion by route, each
signal's precision and lift, and a sweep of the respond threshold, all from one triage pass.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from complaintflow.rules.mention import Mention
from complaintflow.rules.model import CompiledPolicy, Threshold
from complaintflow.rules.triage import Decision, Triage
from complaintflow.training import Scores, TrainingError, read_labelled

SWEEP = tuple(round(0.05 * i, 2) for i in range(1, 20))


@dataclasses.dataclass(frozen=True)
class Example:
    """A labelled mention: is it a complaint, and how severe (None when not labelled)."""

    mention: Mention
    complaint: bool
    severity: int | None = None


def read_examples(
    path: Path,
    *,
    text_column: str,
    label_column: str,
    severity_column: str | None = None,
    id_column: str | None = None,
) -> list[Example]:
    """Labelled mentions from a CSV; raise TrainingError naming what is wrong."""
    data = read_labelled(
        path,
        text_column=text_column,
        label_column=label_column,
        id_column=id_column,
        severity_column=severity_column,
    )
    return [
        Example(
            Mention(id=ident, text=text),
            bool(label),
            data.severities[i] if data.severities is not None else None,
        )
        for i, (ident, text, label) in enumerate(
            zip(data.ids, data.texts, data.labels, strict=True)
        )
    ]


@dataclasses.dataclass(frozen=True)
class SweepRow:
    """What the policy does at one value of the swept threshold."""

    threshold: float
    scores: Scores
    severe_recall: float | None  # recall of the mentions at or above the severity asked for
    opened: int


@dataclasses.dataclass(frozen=True)
class SignalStats:
    name: str
    held: int
    precision: float
    lift: float  # precision / share of complaints overall


@dataclasses.dataclass(frozen=True)
class Miss:
    example: Example
    decision: Decision


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """Everything `complaintflow evaluate` prints."""

    policy: str
    examples: int
    complaints: int
    scores: Scores
    recall_by_severity: dict[int, tuple[int, int]]  # level -> (opened, total)
    by_route: dict[str, tuple[int, int]]  # route ('none' = no case) -> (complaints, others)
    signals: list[SignalStats]
    threshold_name: str
    threshold: float
    sweep: list[SweepRow]
    misses: list[Miss]
    severe_from: int

    def best(self) -> SweepRow:
        """The sweep row with the highest F1."""
        return max(self.sweep, key=lambda r: (r.scores.f1, -r.threshold))

    def suggest(self, target_recall: float) -> SweepRow | None:
        """The highest threshold (fewest cases opened) whose severe recall meets the target."""
        meeting = [
            r
            for r in self.sweep
            if r.severe_recall is not None and r.severe_recall >= target_recall
        ]
        return max(meeting, key=lambda r: r.threshold) if meeting else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "examples": self.examples,
            "complaints": self.complaints,
            "precision": self.scores.precision,
            "recall": self.scores.recall,
            "f1": self.scores.f1,
            "recall_by_severity": {
                str(k): {"opened": a, "total": b} for k, (a, b) in self.recall_by_severity.items()
            },
            "by_route": {k: {"complaints": a, "others": b} for k, (a, b) in self.by_route.items()},
            "signals": [dataclasses.asdict(s) for s in self.signals],
            "sweep": [
                {
                    "threshold": r.threshold,
                    "precision": r.scores.precision,
                    "recall": r.scores.recall,
                    "f1": r.scores.f1,
                    "severe_recall": r.severe_recall,
                    "opened": r.opened,
                }
                for r in self.sweep
            ],
        }


def with_threshold(policy: CompiledPolicy, name: str, value: float) -> CompiledPolicy:
    """The policy with threshold `name` set to `value` (a variant for the sweep only)."""
    thresholds = tuple(Threshold(t.name, value) if t.name == name else t for t in policy.thresholds)
    return dataclasses.replace(
        policy, thresholds=thresholds, content_hash=f"{policy.content_hash}:{name}={value!r}"
    )


def evaluate(
    policy: CompiledPolicy,
    examples: Sequence[Example],
    *,
    threshold_name: str = "respond",
    sweep: Iterable[float] = SWEEP,
    severe_from: int = 3,
    misses: int = 10,
) -> Evaluation:
    """Triage every example with `policy` (and with each swept threshold) and measure it."""
    names = [t.name for t in policy.thresholds]
    if threshold_name not in names:
        raise TrainingError(
            f"the policy has no threshold {threshold_name!r} (it has: {', '.join(names)})"
        )
    base = Triage(policy)
    prepared = [base.values(e.mention) for e in examples]
    decisions = [
        base.decide_values(e.mention.id, dict(v), n)
        for e, (v, n) in zip(examples, prepared, strict=True)
    ]
    truth = [e.complaint for e in examples]
    opened = [d.route is not None for d in decisions]
    severe = [e.severity is not None and e.severity >= severe_from for e in examples]
    has_severity = any(e.severity is not None for e in examples)

    levels: dict[int, tuple[int, int]] = {}
    for e, o in zip(examples, opened, strict=True):
        if e.severity is not None:
            hit, total = levels.get(e.severity, (0, 0))
            levels[e.severity] = (hit + o, total + 1)
    routes: dict[str, tuple[int, int]] = {}
    for e, d in zip(examples, decisions, strict=True):
        key = d.route or "none"
        complaints, others = routes.get(key, (0, 0))
        routes[key] = (complaints + e.complaint, others + (not e.complaint))
    share = sum(truth) / len(truth) if truth else 0.0
    stats = []
    for index, signal in enumerate(policy.signals):
        held = [d.signals[index].held for d in decisions]
        count = sum(held)
        right = sum(h and t for h, t in zip(held, truth, strict=True))
        precision = right / count if count else 0.0
        stats.append(
            SignalStats(signal.name, count, precision, precision / share if share else 0.0)
        )

    rows = []
    for value in sweep:
        variant = Triage(with_threshold(policy, threshold_name, value))
        at = [
            variant.decide_values(e.mention.id, dict(v), n).route is not None
            for e, (v, n) in zip(examples, prepared, strict=True)
        ]
        severe_total = sum(severe)
        rows.append(
            SweepRow(
                value,
                Scores.of(truth, at),
                sum(a and s for a, s in zip(at, severe, strict=True)) / severe_total
                if has_severity and severe_total
                else None,
                sum(at),
            )
        )
    missed = [
        Miss(e, d)
        for e, d, o in zip(examples, decisions, opened, strict=True)
        if e.complaint and not o
    ]
    missed.sort(key=lambda m: (-(m.example.severity or 0), m.decision.score))
    current = next(t.value for t in policy.thresholds if t.name == threshold_name)
    return Evaluation(
        policy.label,
        len(examples),
        sum(truth),
        Scores.of(truth, opened),
        dict(sorted(levels.items())),
        dict(sorted(routes.items(), key=lambda kv: -(kv[1][0] + kv[1][1]))),
        stats,
        threshold_name,
        current,
        rows,
        missed[:misses],
        severe_from,
    )

"""Measuring a policy on labelled history: what it would have opened, and what it missed.

Precision/recall/F1 of "opened a case", recall per severity, the confusion by route, each
signal's precision and lift, and a sweep of the respond threshold, all from one triage pass.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, cast

from complaintflow.learning.training import Scores, TrainingError, read_labelled
from complaintflow.rules.mention import Mention
from complaintflow.rules.model import CompiledPolicy, Threshold
from complaintflow.rules.triage import Decision, Triage

SWEEP = tuple(round(0.05 * i, 2) for i in range(1, 20))
Group = tuple[CompiledPolicy, list[int]]  # a policy, and the examples (indices) it decides


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
    groups: Sequence[Group] | None = None,
) -> Evaluation:
    """Triage every example with `policy` (and with each swept threshold) and measure it.

    `groups` splits the examples among variants of the policy (see retraining.fold_policies):
    each example is decided by the variant whose group holds it.
    """
    names = [t.name for t in policy.thresholds]
    if threshold_name not in names:
        raise TrainingError(
            f"the policy has no threshold {threshold_name!r} (it has: {', '.join(names)})"
        )
    if groups is None:
        groups = [(policy, list(range(len(examples))))]
    prepared: list[tuple[dict[str, Any], str]] = [({}, "")] * len(examples)
    for variant, members in groups:
        found = Triage(variant).values_many([examples[i].mention for i in members])
        for i, values in zip(members, found, strict=True):
            prepared[i] = values
    decisions = _decided(groups, examples, prepared)
    truth = [e.complaint for e in examples]
    opened = [d.route is not None for d in decisions]
    severe = [e.severity is not None and e.severity >= severe_from for e in examples]
    has_severity = any(e.severity is not None for e in examples)
    rows = []
    for value in sweep:
        swept = _decided(groups, examples, prepared, threshold_name, value)
        at = [d.route is not None for d in swept]
        rows.append(_sweep_row(value, at, truth, severe if has_severity else None))
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
        _by_severity(examples, opened),
        _by_route(examples, decisions),
        _signal_stats(policy, decisions, truth),
        threshold_name,
        current,
        rows,
        missed[:misses],
        severe_from,
    )


def _by_severity(examples: Sequence[Example], opened: list[bool]) -> dict[int, tuple[int, int]]:
    """Per severity level: (cases opened, examples), lowest level first."""
    levels: dict[int, tuple[int, int]] = {}
    for e, o in zip(examples, opened, strict=True):
        if e.severity is not None:
            hit, total = levels.get(e.severity, (0, 0))
            levels[e.severity] = (hit + o, total + 1)
    return dict(sorted(levels.items()))


def _by_route(examples: Sequence[Example], decisions: list[Decision]) -> dict[str, tuple[int, int]]:
    """Per route taken ("none" for no case): (complaints, others), busiest first."""
    routes: dict[str, tuple[int, int]] = {}
    for e, d in zip(examples, decisions, strict=True):
        key = d.route or "none"
        complaints, others = routes.get(key, (0, 0))
        routes[key] = (complaints + e.complaint, others + (not e.complaint))
    return dict(sorted(routes.items(), key=lambda kv: -(kv[1][0] + kv[1][1])))


def _signal_stats(
    policy: CompiledPolicy, decisions: list[Decision], truth: list[bool]
) -> list[SignalStats]:
    """How often each signal held, and how often it was right (and the lift over chance)."""
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
    return stats


def _decided(
    groups: Sequence[Group],
    examples: Sequence[Example],
    prepared: list[tuple[dict[str, Any], str]],
    threshold: str | None = None,
    value: float = 0.0,
) -> list[Decision]:
    """Each example's decision by its group's policy (with `threshold` set to `value`)."""
    decisions: list[Decision | None] = [None] * len(examples)
    for variant, members in groups:
        policy = variant if threshold is None else with_threshold(variant, threshold, value)
        triage = Triage(policy)
        for i in members:
            values, normalised = prepared[i]
            decisions[i] = triage.decide_values(examples[i].mention.id, dict(values), normalised)
    undecided = [i for i, d in enumerate(decisions) if d is None]
    if undecided:
        raise ValueError(f"no group holds example {undecided[0]}")
    return cast(list[Decision], decisions)


def _sweep_row(
    value: float, at: list[bool], truth: list[bool], severe: list[bool] | None
) -> SweepRow:
    """The scores with the swept threshold at `value` (severe recall when severities exist)."""
    severe_total = sum(severe) if severe is not None else 0
    return SweepRow(
        value,
        Scores.of(truth, at),
        sum(a and s for a, s in zip(at, severe, strict=True)) / severe_total
        if severe is not None and severe_total
        else None,
        sum(at),
    )


def format_report(
    evaluation: Evaluation, target_recall: float | None = None, *, width: int = 90
) -> str:
    """The evaluation as the text `complaintflow evaluate` prints."""
    e = evaluation
    out = [
        f"policy    {e.policy}",
        f"examples  {e.examples} ({e.complaints} complaints)",
        f"opened a case at {e.threshold_name} {e.threshold:.2f}: {e.scores}",
    ]
    if e.recall_by_severity:
        out += ["", "recall by severity"]
        for level, (hit, total) in e.recall_by_severity.items():
            out.append(f"  {level}  {hit:5}/{total:<5} {hit / total if total else 0.0:6.3f}")
    out += ["", "by route            complaints   others"]
    for route, (complaints, others) in e.by_route.items():
        out.append(f"  {route:18} {complaints:10} {others:8}")
    out += ["", "signals                    held  precision   lift"]
    for s in e.signals:
        out.append(f"  {s.name:24} {s.held:6} {s.precision:10.3f} {s.lift:6.2f}")
    severe = f"recall {e.severe_from}+" if any(r.severe_recall is not None for r in e.sweep) else ""
    out += ["", f"{e.threshold_name:9}  precision  recall     f1  opened  {severe}"]
    for r in e.sweep:
        mark = "  <- policy" if abs(r.threshold - e.threshold) < 1e-9 else ""
        extra = f"  {r.severe_recall:6.3f}" if r.severe_recall is not None else ""
        out.append(
            f"{r.threshold:9.2f}  {r.scores.precision:9.3f}  {r.scores.recall:6.3f}  "
            f"{r.scores.f1:5.3f}  {r.opened:6}{extra}{mark}"
        )
    best = e.best()
    out.append(f"best F1 {best.scores.f1:.3f} at {e.threshold_name} {best.threshold:.2f}")
    if target_recall is not None:
        found = e.suggest(target_recall)
        if found is None:
            out.append(
                f"no {e.threshold_name} threshold in the sweep reaches recall {target_recall} "
                f"on severity >= {e.severe_from}"
            )
        else:
            out.append(
                f"suggested {e.threshold_name}: {found.threshold:.2f} (the highest that keeps "
                f"recall on severity >= {e.severe_from} at {found.severe_recall:.3f} >= "
                f"{target_recall}; F1 {found.scores.f1:.3f}, {found.opened} cases opened)"
            )
    if e.misses:
        out += ["", "worst misses (complaints no route matched, most severe and lowest first)"]
        for miss in e.misses:
            text = " ".join(miss.example.mention.text.split())
            if len(text) > width - 20:
                text = text[: width - 21] + "…"
            how_bad = f"severity {miss.example.severity}, " if miss.example.severity else ""
            held = ", ".join(miss.decision.held) or "no signal held"
            out.append(f"  {miss.example.mention.id}: {text!r}")
            out.append(f"      {how_bad}score {miss.decision.score:.2f}; held: {held}")
    return "\n".join(out)


def write_html(evaluation: Evaluation, path: Path) -> None:
    """An HTML page with the precision/recall curve and the threshold sweep (matplotlib)."""
    import base64
    import html
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    e = evaluation
    figure, (curve, sweep) = pyplot.subplots(1, 2, figsize=(11, 4.2))
    curve.plot(
        [r.scores.recall for r in e.sweep], [r.scores.precision for r in e.sweep], marker="o"
    )
    for r in e.sweep[::3]:
        curve.annotate(f"{r.threshold:.2f}", (r.scores.recall, r.scores.precision), fontsize=7)
    curve.set(
        xlabel="recall",
        ylabel="precision",
        title="Opened a case: precision vs recall",
        xlim=(0, 1.02),
        ylim=(0, 1.02),
    )
    curve.grid(alpha=0.3)
    xs = [r.threshold for r in e.sweep]
    sweep.plot(xs, [r.scores.f1 for r in e.sweep], label="F1", marker=".")
    sweep.plot(xs, [r.scores.recall for r in e.sweep], label="recall", marker=".")
    sweep.plot(xs, [r.scores.precision for r in e.sweep], label="precision", marker=".")
    if any(r.severe_recall is not None for r in e.sweep):
        sweep.plot(
            xs,
            [r.severe_recall or 0.0 for r in e.sweep],
            label=f"recall, severity >= {e.severe_from}",
            linestyle="--",
        )
    sweep.axvline(e.threshold, color="grey", linestyle=":", label="policy")
    sweep.set(xlabel=f"threshold {e.threshold_name}", title="Threshold sweep", ylim=(0, 1.02))
    sweep.legend(fontsize=8)
    sweep.grid(alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    pyplot.close(figure)
    image = base64.b64encode(buffer.getvalue()).decode()
    page = (
        "<!doctype html><meta charset='utf-8'>"
        f"<title>Evaluation of {html.escape(e.policy)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}pre{background:#f6f6f6;padding:1em}"
        "</style>"
        f"<h1>Evaluation of {html.escape(e.policy)}</h1>"
        f"<img alt='precision/recall curve and threshold sweep' src='data:image/png;base64,"
        f"{image}'>"
        f"<pre>{html.escape(format_report(e))}</pre>"
    )
    path.write_text(page, encoding="utf-8")

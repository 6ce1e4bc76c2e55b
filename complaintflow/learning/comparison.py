"""Two models compared before one goes live: the policy as it runs, and the same policy
reading a candidate model, on the brand's most recent labels the candidate did not learn from.

Says what would change: precision, recall, recall of severe complaints, cases opened per
1,000 mentions, and the complaints the candidate would now miss; and whether to promote it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from complaintflow.learning.evaluation import Example
from complaintflow.learning.training import Scores
from complaintflow.rules.model import CompiledPolicy
from complaintflow.rules.triage import Triage

MIN_NEW_LABELS = 100  # fewer held-out labels than this say too little to promote on
SEVERE_FLOOR = 0.90  # a candidate is never proposed below this recall of severe complaints


@dataclasses.dataclass(frozen=True)
class Side:
    """How one policy does on the held-out labels."""

    scores: Scores
    severe_recall: float | None  # None when no label carries a severity
    opened_per_1000: float


@dataclasses.dataclass(frozen=True)
class Comparison:
    examples: int
    complaints: int
    live: Side
    candidate: Side
    now_missed: list[Example]  # complaints the live policy opens and the candidate would not
    now_found: int  # complaints the candidate opens and the live policy misses

    def verdict(self, *, min_labels: int = MIN_NEW_LABELS) -> tuple[bool, str]:
        """Whether to propose the candidate, and why (or why not)."""
        live, candidate = self.live, self.candidate
        if self.examples < min_labels:
            return False, f"too few labels to judge on: {self.examples}, {min_labels} needed"
        if candidate.severe_recall is not None and (
            candidate.severe_recall < SEVERE_FLOOR
            or (live.severe_recall is not None and candidate.severe_recall < live.severe_recall)
        ):
            return False, (
                f"severe recall would drop to {candidate.severe_recall:.3f} "
                f"(live {live.severe_recall or 0.0:.3f}, floor {SEVERE_FLOOR})"
            )
        if candidate.scores.f1 <= live.scores.f1:
            return False, (
                f"no gain: F1 {candidate.scores.f1:.3f} against the live {live.scores.f1:.3f}"
            )
        return True, (
            f"F1 {live.scores.f1:.3f} -> {candidate.scores.f1:.3f}, precision "
            f"{live.scores.precision:.3f} -> {candidate.scores.precision:.3f}"
        )


def compare(
    live: CompiledPolicy,
    candidate: CompiledPolicy,
    examples: Sequence[Example],
    *,
    severe_from: int = 3,
) -> Comparison:
    """Triage `examples` with both policies and measure each (see Comparison)."""
    mentions = [e.mention for e in examples]
    return compare_decided(
        examples,
        [d.route is not None for d in Triage(live).decide_many(mentions)],
        [d.route is not None for d in Triage(candidate).decide_many(mentions)],
        severe_from=severe_from,
    )


def compare_decided(
    examples: Sequence[Example],
    live: Sequence[bool],
    candidate: Sequence[bool],
    *,
    severe_from: int = 3,
) -> Comparison:
    """Compare what was decided for `examples`: whether each side opened a case."""
    truth = [e.complaint for e in examples]
    opened = {"live": list(live), "candidate": list(candidate)}
    severe = [e.severity is not None and e.severity >= severe_from for e in examples]
    sides = {name: _side(truth, at, severe) for name, at in opened.items()}
    pairs = list(zip(examples, opened["live"], opened["candidate"], strict=True))
    return Comparison(
        len(examples),
        sum(truth),
        sides["live"],
        sides["candidate"],
        [e for e, was, now in pairs if e.complaint and was and not now],
        sum(1 for e, was, now in pairs if e.complaint and now and not was),
    )


def _side(truth: list[bool], opened: list[bool], severe: list[bool]) -> Side:
    total = sum(severe)
    return Side(
        Scores.of(truth, opened),
        sum(o and s for o, s in zip(opened, severe, strict=True)) / total if total else None,
        1000 * sum(opened) / len(opened) if opened else 0.0,
    )


def format_comparison(
    result: Comparison, *, since: str, promote: str, on: str = "", width: int = 90
) -> str:
    """The comparison as `complaintflow evaluate --candidate` (or `--shadow`) prints it."""
    head = (
        f"{on}  {result.examples} labelled mentions ({result.complaints} complaints), each "
        "decided by both"
        if on
        else f"held out  {result.examples} labels from {since or 'the start'} on "
        f"({result.complaints} complaints), none of which the candidate learnt from"
    )
    out = [
        head,
        "",
        "                 live  candidate   change",
    ]
    rows = [
        ("precision", result.live.scores.precision, result.candidate.scores.precision),
        ("recall", result.live.scores.recall, result.candidate.scores.recall),
        ("F1", result.live.scores.f1, result.candidate.scores.f1),
    ]
    if result.live.severe_recall is not None and result.candidate.severe_recall is not None:
        rows.append(("severe recall", result.live.severe_recall, result.candidate.severe_recall))
    for name, was, now in rows:
        out.append(f"  {name:13} {was:6.3f}  {now:9.3f}  {now - was:+7.3f}")
    was, now = result.live.opened_per_1000, result.candidate.opened_per_1000
    out.append(f"  {'opened/1000':13} {was:6.0f}  {now:9.0f}  {now - was:+7.0f}")
    out.append(
        f"the candidate would newly find {result.now_found} complaints and miss "
        f"{len(result.now_missed)} the live model finds"
    )
    for example in result.now_missed[:10]:
        text = " ".join(example.mention.text.split())
        if len(text) > width - 12:
            text = text[: width - 13] + "…"
        out.append(f"  now missed {example.mention.id}: {text!r}")
    good, why = result.verdict()
    out.append("")
    out.append(f"promote: {why}; {promote}" if good else f"keep the live model: {why}")
    return "\n".join(out)

"""`explain`: how a policy decides one mention, signal by signal, then the route and the
steps it would take (as text, or as JSON)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from complaintflow.cli.common import print_text
from complaintflow.errors import UsageError
from complaintflow.rules.compiler import load_policy
from complaintflow.rules.durations import format_duration
from complaintflow.rules.mention import Mention, MentionError
from complaintflow.rules.model import CompiledPolicy, Step
from complaintflow.rules.steps import STEP_SPECS
from complaintflow.rules.triage import Decision, PlannedStep, Triage


def register(commands: Any) -> None:
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
        return print_text(json.dumps(_record(triage, mention, decision, plan), indent=2))
    out = [
        *_header(triage, mention, decision),
        *_signal_lines(policy, decision),
        *_route_lines(policy, decision, plan),
    ]
    for error in decision.errors:
        out.append(f"error     {error} (the condition counted as false)")
    return print_text("\n".join(out))


def _record(
    triage: Triage, mention: Mention, decision: Decision, plan: list[PlannedStep]
) -> dict[str, Any]:
    """`explain --json`: the decision's record with signals, steps, errors and classifiers."""
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
    return record


def _header(triage: Triage, mention: Mention, decision: Decision) -> list[str]:
    """The policy, the mention, its features, its language and the classifiers' outputs."""
    policy = triage.policy
    values, _ = triage.values(mention)
    return [
        f"policy    {policy.label}",
        f"mention   {mention.id} on {mention.platform} by @{mention.author.handle or '?'} "
        f"({mention.author.followers} followers), {mention.channel}"
        + (" (a private message: answered in that conversation)" if mention.private else ""),
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


def _signal_lines(policy: CompiledPolicy, decision: Decision) -> list[str]:
    """One line per signal (held, not held, or in error), then the score."""
    conditions = {s.name: s.when for s in policy.signals}
    out = []
    for result in decision.signals:
        mark = "HELD" if result.held else ("error" if result.error else "-")
        weight = f"{result.weight:+.2f}" if result.held else f"({result.weight:+.2f})"
        out.append(
            f"  {mark:5} {result.name:18} {weight:>8}  {_shorten(conditions[result.name], 60)}"
        )
        if result.error:
            out.append(f"        counted as not held: {result.error}")
    thresholds = ", ".join(f"{t.name} {t.value}" for t in policy.thresholds)
    return [*out, "", f"score     {decision.score:.2f}   (thresholds: {thresholds})"]


def _route_lines(policy: CompiledPolicy, decision: Decision, plan: list[PlannedStep]) -> list[str]:
    """The route and playbook, then each step with its outlook."""
    if decision.route is None:
        return ["route     none: a throwaway remark (logged, no case opened)"]
    playbook = policy.playbook(decision.playbook or "")
    out = [
        f"route     {decision.route} -> playbook {playbook.name} "
        f"(first public answer within "
        f"{format_duration(playbook.respond_within_seconds)})",
        "",
        "steps",
    ]
    for number, planned in enumerate(plan, 1):
        out.append(
            f"  {number:2}. {planned.step.id:24} {planned.outlook.value:22} "
            f"{_step_summary(policy, planned.step)}"
        )
    return out


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
    """What the step does, as its kind tells it (the drawing `graph` shows), then its approval
    and its condition."""
    parts = [STEP_SPECS[step.kind].draw(step).replace("<br/>", ", ")]
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

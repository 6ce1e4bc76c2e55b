"""What supervisors see of a case in the Web UI: search attributes and Markdown details.

Pure functions of the case state; the running case upserts and sets what they return.
"""

import json
import re
from datetime import datetime, timedelta
from typing import Any

from temporalio.common import SearchAttributeUpdate

from complaintflow.rules.language import playbooks_in
from complaintflow.rules.model import CompiledPolicy
from complaintflow.workflows import search
from complaintflow.workflows.messages import CaseInput, CaseState, CaseStatus, PendingApproval


def initial_search_attributes(case: CaseInput) -> dict[str, Any]:
    """The search attributes a case starts with (set by the starter: not a billed upsert).

    The SLA due time is known here only when the post carries its time; otherwise the
    workflow sets it from its own start time.
    """
    playbook = case.policy.playbook(case.decision.playbook or "")
    values: dict[str, Any] = {
        search.CASE_STATUS.name: CaseStatus.OPEN.value,
        search.CASE_SCORE.name: case.decision.score,
        search.CASE_PLATFORM.name: case.mention.platform,
        search.CASE_POLICY.name: f"{case.policy.name}@v{case.policy.version}",
        search.CASE_ROUTE.name: case.decision.route or "",
        search.CASE_PRIORITY.name: playbook.priority,
        search.CASE_AWAITING_APPROVAL.name: False,
    }
    posted = complaint_time(case, None)
    if posted is not None:
        values[search.CASE_SLA_DUE.name] = posted + timedelta(
            seconds=playbook.respond_within_seconds
        )
    return values


def complaint_time(case: CaseInput, fallback: datetime | None) -> datetime | None:
    """When the customer posted (the SLA starts then); `fallback` if unknown."""
    try:
        when = datetime.fromisoformat(case.mention.created_at.replace("Z", "+00:00"))
    except ValueError:
        return fallback
    return when if when.tzinfo is not None else fallback


def search_changes(
    wanted: dict[str, Any], published: dict[str, Any], state: CaseState
) -> list[tuple[str, Any]]:
    """The attributes (name, value) that differ from what visibility holds.

    Score and priority are read from the state, so that every change to them is published.
    """
    wanted = dict(wanted)
    wanted[search.CASE_SCORE.name] = state.score
    wanted[search.CASE_PRIORITY.name] = state.priority
    return [(k, v) for k, v in wanted.items() if published.get(k) != v]


def search_updates(changed: list[tuple[str, Any]]) -> list[SearchAttributeUpdate[Any]]:
    """The typed upserts for `changed` attribute values."""
    keys = {k.name: k for k in search.ALL}
    return [keys[k].value_set(v) for k, v in changed]


def markdown(state: CaseState, policy: CompiledPolicy) -> str:
    """The case's details in the Web UI: what it waits for and how a supervisor acts."""
    lines = [
        f"**Case {md(state.case_id)}** · {state.platform} · @{md(state.author)} · "
        f"score {state.score} · {state.route} → {state.playbook} · "
        f"priority {state.priority}",
        "",
    ]
    if state.language:
        lines += [
            f"Language: **{state.language}** (confidence {state.language_confidence:.2f})",
            "",
        ]
    pending = state.pending
    if state.status is CaseStatus.CLOSED:
        lines.append(f"Closed: {md(state.closed_reason)}.")
    elif pending is not None:
        lines += _approval_lines(pending)
    elif state.status is CaseStatus.AWAITING_ROUTE:
        lines += _route_lines(state, policy)
    else:
        lines += _waiting_lines(state)
    if state.sla_breached:
        lines += ["", f"**SLA breached**: no public answer by {state.sla_due}."]
    return "\n".join(lines)


def _approval_lines(pending: PendingApproval) -> list[str]:
    return [
        f"### Waiting for approval: `{pending.step}` ({pending.kind})",
        "",
        "Draft:",
        "",
        *(f"> {md(line)}" for line in pending.draft.splitlines()),
        "",
        f"Decide by {pending.deadline}. In **More Actions → Send an Update**:",
        "",
        f"- `approve`: `{_example(pending.step)}`",
        f"- `edit`: `{_example(pending.step, text='NEW TEXT')}`",
        f"- `reject`: `{_example(pending.step, note='WHY')}`",
    ]


def _route_lines(state: CaseState, policy: CompiledPolicy) -> list[str]:
    able = [p for p in playbooks_in(policy, state.language) if p != state.playbook]
    return [
        "### Waiting for a person to pick a playbook",
        "",
        "The policy cannot read this post. In **More Actions → Send an Update**, "
        f"`route`: `{_route_example(able[0] if able else 'PLAYBOOK')}`",
        "",
        f"Playbooks that can answer in '{state.language or 'unknown'}': "
        f"{', '.join(able) or 'none'}. Or answer by hand and send `close`: "
        '`{"by": "YOUR NAME", "note": "WHY"}`.',
    ]


def _waiting_lines(state: CaseState) -> list[str]:
    waiting = {
        CaseStatus.AWAITING_CONTACT: "the customer to get in touch offline",
        CaseStatus.AWAITING_RESOLUTION: "the problem to be resolved",
        CaseStatus.WAITING: "a timer or an event",
    }.get(state.status)
    if waiting:
        first = f"Waiting for {waiting} (step `{state.current_step}`)."
    else:
        first = f"Running step `{state.current_step}`."
    return [
        first,
        "",
        "When the customer's problem is fixed, send the update `resolve`: "
        '`{"by": "YOUR NAME", "note": "WHAT WAS DONE"}`',
    ]


def _example(step: str, **extra: str) -> str:
    return json.dumps({"step": step, "by": "YOUR NAME", **extra})


def _route_example(playbook: str) -> str:
    return json.dumps({"playbook": playbook, "by": "YOUR NAME"})


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~&=:])")


def md(text: str) -> str:
    """Text shown literally in the Web UI's Markdown: every markup character escaped.

    Handles, names and drafts come from customers; unescaped they could add headings, links
    or remote images to a supervisor's screen.
    """
    return _MARKDOWN.sub(r"\\\1", " ".join(text.split("\n")))

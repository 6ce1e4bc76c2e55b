"""What supervisors see of a case in the Web UI: search attributes, summary and details.

The one place where values from outside (customers' words, handles, supervisors' notes)
become what Temporal shows: each bounded and escaped here. Pure functions of the case; the
starter and the running case set what they return.
"""

import json
import re
from datetime import datetime, timedelta
from typing import Any

from temporalio.common import SearchAttributeUpdate, TypedSearchAttributes

from complaintflow.rules.language import playbooks_in
from complaintflow.rules.mention import Mention
from complaintflow.rules.model import CompiledPolicy, Playbook, StepKind
from complaintflow.rules.triage import Decision
from complaintflow.workflows import search
from complaintflow.workflows.messages import CaseInput, CaseState, CaseStatus, PendingApproval

# Temporal refuses a Keyword search attribute over 2,048 bytes by failing the workflow task
# for good; what a case upserts stays far below. A summary is one line of the case list.
MAX_KEYWORD_BYTES = 500
MAX_SUMMARY_CHARS = 200
MAX_DETAILS_TEXT = 2_000  # characters of the customer's post shown in the start details


def initial_search_attributes(case: CaseInput) -> dict[str, Any]:
    """The search attributes a case starts with (set by the starter: not a billed upsert).

    The SLA due time is known here only when the post carries its time; otherwise the
    workflow sets it from its own start time.
    """
    playbook = case.policy.playbook(case.decision.playbook or "")
    values: dict[str, Any] = {
        search.CASE_STATUS.name: CaseStatus.OPEN.value,
        search.CASE_SCORE.name: case.decision.score,
        search.CASE_PLATFORM.name: keyword(case.mention.platform),
        search.CASE_POLICY.name: keyword(f"{case.policy.name}@v{case.policy.version}"),
        search.CASE_ROUTE.name: keyword(case.decision.route or ""),
        search.CASE_PRIORITY.name: playbook.priority,
        search.CASE_AWAITING_APPROVAL.name: False,
    }
    posted = complaint_time(case, None)
    if posted is not None:
        values[search.CASE_SLA_DUE.name] = posted + timedelta(
            seconds=playbook.respond_within_seconds
        )
    return values


def opening_search_attributes(case: CaseInput) -> dict[str, Any]:
    """What the starter sets (free, unlike an upsert): the initial attributes, and "awaiting
    approval" when the playbook asks for an approval before it waits for anything else (the
    case does within a moment of starting).

    A post without its time gets its SLA due from the workflow's start (the server's clock,
    which the starter's may not match): that one is upserted.
    """
    values = initial_search_attributes(case)
    playbook = case.policy.playbook(case.decision.playbook or "")
    if asks_first(playbook):
        values[search.CASE_STATUS.name] = CaseStatus.AWAITING_APPROVAL.value
        values[search.CASE_AWAITING_APPROVAL.name] = True
    return values


# Steps that act and go on without waiting (their activities take moments).
_PASSING = (StepKind.NOTIFY, StepKind.ESCALATE)


def asks_first(playbook: Playbook) -> bool:
    """Whether the playbook's first wait is an approval that every case reaches."""
    return first_approval(playbook) is not None


def first_approval(playbook: Playbook) -> timedelta | None:
    """How long the playbook's first wait lasts at most, when it is an approval that every
    case reaches moments after it starts; None otherwise."""
    for step in playbook.steps:
        if step.when is not None:
            return None
        if step.approval is not None:
            if step.kind is StepKind.REMOVE_PUBLIC:  # a removal may be refused first
                return None
            return timedelta(seconds=step.approval.timeout_seconds)
        if step.kind not in _PASSING:
            return None
    return None


def started_with(found: TypedSearchAttributes) -> dict[str, Any]:
    """The case's attributes as its start set them (whichever starter wrote them)."""
    names = {key.name for key in search.ALL}
    return {pair.key.name: pair.value for pair in found if pair.key.name in names}


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
    """The typed upserts for `changed` attribute values (text bounded, see `keyword`)."""
    keys: dict[str, Any] = {k.name: k for k in search.ALL}
    return [keys[k].value_set(keyword(v) if isinstance(v, str) else v) for k, v in changed]


def keyword(value: str) -> str:
    """`value` as a Keyword search attribute: one line, at most MAX_KEYWORD_BYTES of UTF-8."""
    line = _one_line(value)
    data = line.encode("utf-8", "replace")
    if len(data) <= MAX_KEYWORD_BYTES:
        return line
    return data[: MAX_KEYWORD_BYTES - 3].decode("utf-8", "ignore") + "…"


def start_summary(mention: Mention, decision: Decision) -> str:
    """The one line the case list shows for a new case: where, who, how serious, what."""
    author = mention.author.handle or mention.author.name or "?"
    words = _clip(_one_line(mention.text), 80)
    line = f"{mention.platform} · @{author} · {decision.score} · {decision.route}: {words}"
    return md(_clip(line, MAX_SUMMARY_CHARS))


def start_details(mention: Mention, decision: Decision, policy: CompiledPolicy) -> str:
    """The Markdown a case starts with: the post (quoted literally), its language and score."""
    author = mention.author
    held = ", ".join(decision.held) or "none"
    text = _clip(mention.text, MAX_DETAILS_TEXT)
    return "\n".join(
        [
            f"**{md(mention.platform)}** post `{_code(mention.id)}` by @{md(author.handle)} "
            f"({author.followers} followers), thread `{_code(mention.thread)}`",
            "",
            *(f"> {md(line)}" for line in text.splitlines()),
            "",
            f"Language **{md(decision.language or 'unknown')}** "
            f"(confidence {decision.language_confidence:.2f}).",
            f"Score **{decision.score}** from signals: {md(held)}.",
            f"Route **{md(decision.route or '')}** → playbook **{md(decision.playbook or '')}**, "
            f"policy {md(policy.label)}.",
        ]
    )


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
        lines += _waiting_lines(state, policy)
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


def _waiting_lines(state: CaseState, policy: CompiledPolicy) -> list[str]:
    waiting = {
        CaseStatus.AWAITING_CONTACT: "the customer to get in touch offline",
        CaseStatus.AWAITING_RESOLUTION: "the problem to be resolved",
        CaseStatus.WAITING: "a timer or an event",
    }.get(state.status)
    if waiting:
        first = f"Waiting for {waiting} (step `{state.current_step}`)."
    else:
        first = f"Running step `{state.current_step}`."
    lines = [
        first,
        "",
        "When the customer's problem is fixed, send the update `resolve`: "
        '`{"by": "YOUR NAME", "note": "WHAT WAS DONE"}`',
    ]
    later = _asking_later(state, policy)
    if later:
        example = json.dumps({"by": "YOUR NAME", "note": "...", "approve": ", ".join(later)})
        lines += [
            "",
            f"Later steps ask an approval ({', '.join(f'`{s}`' for s in later)}): approve them "
            f"with the resolution and the case goes on without asking: `{example}`",
        ]
    return lines


def _asking_later(state: CaseState, policy: CompiledPolicy) -> list[str]:
    """The steps after the current one that ask an approval (ids from the policy)."""
    names = [p.name for p in policy.playbooks]
    if state.playbook not in names:
        return []
    steps = policy.playbook(state.playbook).steps
    ids = [s.id for s in steps]
    after = ids.index(state.current_step) + 1 if state.current_step in ids else len(ids)
    return [s.id for s in steps[after:] if s.approval is not None]


def _example(step: str, **extra: str) -> str:
    return json.dumps({"step": step, "by": "YOUR NAME", **extra})


def _route_example(playbook: str) -> str:
    return json.dumps({"playbook": playbook, "by": "YOUR NAME"})


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~&=:])")
# Line breaks of every kind, other control characters and the bidirectional overrides that
# could make a handle read as something else on a supervisor's screen.
_UNSHOWN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def md(text: str) -> str:
    """Text shown literally in the Web UI's Markdown: every markup character escaped.

    Handles, names and drafts come from customers; unescaped they could add headings, links
    or remote images to a supervisor's screen.
    """
    return _MARKDOWN.sub(r"\\\1", _one_line(text))


def _one_line(text: str) -> str:
    return _UNSHOWN.sub(" ", text)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _code(text: str) -> str:
    """An id shown as inline code: one line, bounded, without backticks."""
    return _clip(_one_line(text), 200).replace("`", "'")

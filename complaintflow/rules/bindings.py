"""Where each condition variable gets its value: one binding for triage and for the workflow.

Triage (signals, routes) and a case's step conditions bind the mention's variables with the
same function and the same brand handles, so a condition means the same thing in both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from complaintflow.rules.features import mention_values
from complaintflow.rules.language import prior_for
from complaintflow.rules.mention import Mention
from complaintflow.rules.model import CompiledPolicy


def brand_handles(policy: CompiledPolicy) -> tuple[str, ...]:
    """The brand's handles, lowercase without @ (a post @-mentioning one is addressed)."""
    return tuple(a.handle.lower() for a in policy.brand.accounts if a.handle)


def mention_scope(
    policy: CompiledPolicy, mention: Mention, normalised: str, *, handles: bool = True
) -> dict[str, Any]:
    """The mention-level variables (see expressions.MENTION_VARIABLES) of `mention`.

    `handles=False` is how cases opened before the workflow bound the brand's handles
    computed `mention.addressed`; their histories replay with it.
    """
    return mention_values(
        mention, normalised, brand_handles(policy) if handles else (), prior_for(policy)
    )


class CaseLike(Protocol):
    """What a step condition reads of a running case (the workflow's CaseState)."""

    case_id: str
    resolved: bool
    contacted: bool
    escalated: bool
    thanked: bool
    sla_breached: bool
    priority: str
    score: float
    mention_count: int  # posts seen in the thread (`mentions` keeps only the latest ids)

    @property
    def mentions(self) -> Sequence[str]: ...


def case_scope(case: CaseLike) -> dict[str, Any]:
    """The case.* variables (see expressions.CASE_VARIABLES) of a running case."""
    return {
        "case.id": case.case_id,
        "case.resolved": case.resolved,
        "case.contacted": case.contacted,
        "case.escalated": case.escalated,
        "case.thanked": case.thanked,
        "case.sla_breached": case.sla_breached,
        "case.priority": case.priority,
        "case.mentions": max(case.mention_count, len(case.mentions)),
    }


def step_scope(
    policy: CompiledPolicy,
    mention: Mention,
    normalised: str,
    *,
    signals: Mapping[str, bool],
    case: CaseLike,
    handles: bool = True,
) -> dict[str, Any]:
    """Every variable a step's `when:` reads: the mention's, the triage's and the case's."""
    values = mention_scope(policy, mention, normalised, handles=handles)
    values.update({f"thresholds.{t.name}": t.value for t in policy.thresholds})
    values.update({f"signals.{name}": held for name, held in signals.items()})
    values["score"] = case.score
    values.update(case_scope(case))
    return values

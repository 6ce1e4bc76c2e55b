"""Whether a supervisor's action may apply to the case now: the update validators' checks.

Pure functions of the running case: they read it and raise `Refused` with the reason.
"""

import dataclasses
from typing import Any

from complaintflow.rules.language import playbooks_in, replies_in
from complaintflow.rules.model import StepKind
from complaintflow.rules.templates import MESSAGE_LIMITS, REPLY_LIMITS, post_length
from complaintflow.workflows.case.running import PRIORITIES, CaseRun
from complaintflow.workflows.messages import CaseStatus, Refused, SupervisorAction

DECIDED = {"approve": "approved", "edit": "approved with edits", "reject": "rejected"}


def action_of(payload: Any) -> SupervisorAction:
    """The action of an update the validator accepted.

    Lenient on purpose: an update recorded before the validator refused unknown fields
    must replay as it ran.
    """
    if isinstance(payload, SupervisorAction):
        return payload
    names = {f.name for f in dataclasses.fields(SupervisorAction)}
    fields = payload if isinstance(payload, dict) else {}
    return SupervisorAction(**{k: str(v) for k, v in fields.items() if k in names})


def check_open(run: CaseRun, action: SupervisorAction) -> None:
    """The action says who sent it and the case is still open."""
    if not action.by.strip():
        raise Refused('say who you are: add "by": "YOUR NAME" to the payload')
    if run.closed:
        raise Refused(f"case {run.state.case_id} is closed")


def check_pending(run: CaseRun, action: SupervisorAction) -> None:
    """The action decides the step waiting for approval, once, by one of its approvers."""
    check_open(run, action)
    pending = run.state.pending
    decided = run.decided.get(action.step)
    if decided and (pending is None or pending.step != action.step or run.decision):
        raise Refused(f"{action.step} was already {decided}")
    if pending is None:
        at = run.state.current_step or "its first step"
        raise Refused(f"nothing is waiting for approval (the case is at {at})")
    if action.step != pending.step:
        raise Refused(
            f'step "{action.step}" is not waiting for approval; '
            f'"{pending.step}" is: send {{"step": "{pending.step}", ...}}'
        )
    if run.decision is not None:  # one decision per step: the first one wins
        raise Refused(
            f"{pending.step} was already {DECIDED[run.decision_kind]} by {run.decision.by}"
        )
    if pending.approvers and action.by not in pending.approvers:
        raise Refused(
            f"{action.by} may not approve {pending.step}; ask {', '.join(pending.approvers)}"
        )


def check_text(run: CaseRun, text: str) -> None:
    """An edit's new text is there and fits the platform's limit for the pending step."""
    pending = run.state.pending
    if not text.strip():
        raise Refused('an edit needs the new text: add "text": "..."')
    assert pending is not None
    platform = run.state.platform
    limits = REPLY_LIMITS if pending.kind == StepKind.REPLY.value else MESSAGE_LIMITS
    limit = limits.get(platform, 280)
    length = post_length(platform, text)
    if length > limit:
        raise Refused(f"the text is {length} characters; {platform} allows {limit}")


def check_resolve(run: CaseRun, action: SupervisorAction) -> None:
    """The case is open and not resolved yet; the steps it approves as well come later in
    its playbook, ask an approval the sender may give, and have none yet."""
    check_open(run, action)
    if run.state.resolved:
        raise Refused("the case is already resolved")
    later = run.playbook.steps[run.step_index + 1 :]
    asking = [s.id for s in later if s.approval is not None and s.id not in run.decided]
    for step_id in ahead(action):
        step = next((s for s in later if s.id == step_id), None)
        if step is None or step.approval is None or step_id in run.decided:
            why = (
                f"{step_id} was already {run.decided[step_id]}"
                if step_id in run.decided
                else f"step {step_id[:100]!r} asks no approval"
                if step is not None
                else f"no step {step_id[:100]!r} comes later in playbook {run.playbook.name}"
            )
            hint = ", ".join(asking) if asking else "none"
            raise Refused(f"{why}; later steps that ask approval: {hint}")
        if step.approval.approvers and action.by not in step.approval.approvers:
            raise Refused(
                f"{action.by} may not approve {step_id}; ask {', '.join(step.approval.approvers)}"
            )


def ahead(action: SupervisorAction) -> list[str]:
    """The step ids a resolve approves as well ("a, b" -> ["a", "b"])."""
    return list(dict.fromkeys(p.strip() for p in action.approve.split(",") if p.strip()))


def check_escalate(run: CaseRun, action: SupervisorAction) -> None:
    """The case is open and the priority, if given, is one we know."""
    check_open(run, action)
    if action.priority and action.priority not in PRIORITIES:
        raise Refused(f"priority must be one of {', '.join(PRIORITIES)}")


def check_route(run: CaseRun, action: SupervisorAction) -> None:
    """The case waits to be routed, to another playbook that can reply in its language."""
    check_open(run, action)
    policy = run.policy
    names = [p.name for p in policy.playbooks]
    if action.playbook not in names:
        raise Refused(
            f'unknown playbook {action.playbook!r}: add "playbook": one of {", ".join(names)}'
        )
    if run.state.status is not CaseStatus.AWAITING_ROUTE or run.route_to is not None:
        at = run.state.current_step or "its first step"
        raise Refused(f"the case is not waiting to be routed (it is at {at})")
    if action.playbook == run.playbook.name:
        raise Refused(f"the case is already in playbook {action.playbook}")
    language = run.state.language
    if not replies_in(policy, action.playbook, language):
        able = [p for p in playbooks_in(policy, language) if p != run.playbook.name]
        raise Refused(
            f"playbook {action.playbook} would reply with texts that have no "
            f"'{language or 'unknown'}' version; "
            + (f"use one of {', '.join(able)}, " if able else "")
            + "or answer by hand and close the case"
        )

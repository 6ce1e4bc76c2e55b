"""Everything a case waits for: an approval, an event, the customer's contact, a timer, the SLA.

A wait ends early when the case closes (`Closed`) or its history grows long (`RollOver`:
the case continues as new, waiting again for what remains).
"""

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from complaintflow.rules.durations import format_duration
    from complaintflow.rules.model import Step
    from complaintflow.workflows import search
    from complaintflow.workflows.case import versions
    from complaintflow.workflows.case.running import CaseRun
    from complaintflow.workflows.messages import CaseInput, CaseStatus, PendingApproval, Resume

# A case continues as new (same id, state carried over) once its history has this many
# events, or when the server suggests it: far below Temporal's 51,200-event limit.
ROLL_OVER_EVENTS = 10_000
# The deadline of a wait that goes on without one (an approval already escalated), as carried
# across continue-as-new.
FOREVER = datetime.max.replace(tzinfo=UTC)
AWAITED_STATUS = {
    "resolution": CaseStatus.AWAITING_RESOLUTION,
    "contact": CaseStatus.AWAITING_CONTACT,
    "route": CaseStatus.AWAITING_ROUTE,
}


class Closed(Exception):
    """Raised inside the interpreter when the case was closed while a step waited."""


class RollOver(Exception):
    """Raised inside the interpreter when the history grew long while a step waited."""


def long() -> bool:
    """Whether the history grew long enough to continue as new (checked while waiting)."""
    info = workflow.info()
    return (
        info.get_current_history_length() > ROLL_OVER_EVENTS or info.is_continue_as_new_suggested()
    )


def continue_as_new(run: CaseRun, case: CaseInput) -> None:
    """Continue as new with the state, the step and what remains of its wait."""
    run.audit("complaintflow", "continuing as new", detail="the history grew long")
    run.state.pending = None
    if run.frugal:  # the next run starts from what visibility holds: bring it up to date
        run.flush()
    resume = Resume(
        run.state,
        run.step_index,
        dict(run.decided),
        run.sla_done,
        run.wait_until.isoformat() if run.wait_until else "",
        dict(run.approved_ahead),
    )
    workflow.continue_as_new(
        dataclasses.replace(case, resume=resume),
        search_attributes=workflow.info().typed_search_attributes,
    )


async def until(
    run: CaseRun,
    ready: Callable[[], bool],
    timeout: timedelta | None,
    summary: str = "",
    *,
    parks: bool = True,
) -> None:
    """Wait until `ready()`; raise TimeoutError after `timeout` (None: no limit).

    New cases wait on the case's one wake-up timer and, when the run itself waits (`parks`),
    first publish what changed: one upsert per wait. Cases that ran before start a timer per
    wait, as their histories did.
    """
    if not run.frugal:
        await workflow.wait_condition(ready, timeout=timeout, timeout_summary=summary or None)
        return
    if ready():
        return  # nothing to wait for: nothing to publish or time yet
    deadline = None if timeout is None else workflow.now() + timeout
    if deadline is not None and deadline <= workflow.now():
        raise TimeoutError
    if parks:
        run.flush()
        run.parked = True
    if deadline is not None:
        run.alarm.need(deadline, summary or "wake up")
    try:
        await workflow.wait_condition(
            lambda: ready() or (deadline is not None and workflow.now() >= deadline)
        )
    finally:
        if parks:
            run.parked = False
        if deadline is not None:
            run.alarm.drop(deadline)
    if not ready():
        raise TimeoutError


def timeout(run: CaseRun, seconds: int | None) -> timedelta | None:
    """A wait of `seconds` for the current step, or what remains of it after a restart (None:
    no limit, also when the wait had already timed out into waiting without one)."""
    if seconds is None:
        return None
    resumed, run.resumed_wait = run.resumed_wait, None
    now = workflow.now()
    until = resumed if resumed is not None else now + timedelta(seconds=seconds)
    run.wait_until = until
    if until == FOREVER:
        return None
    return max(until - now, timedelta(0))


async def approval(run: CaseRun, step: Step, draft: str) -> str | None:
    """Wait for a supervisor; the text to use, or None when the step is skipped."""
    asked = step.approval
    assert asked is not None
    if run.approved_ahead.pop(step.id, None) is not None:  # given with the resolution
        return draft
    now = workflow.now()
    deadline = now + timedelta(seconds=asked.timeout_seconds)
    resumed = run.resumed_wait
    if resumed is not None and workflow.patched(versions.APPROVAL_DEADLINE_RESUMES):
        deadline = resumed  # asked again after continuing as new: the same deadline
    due = "" if deadline == FOREVER else deadline.isoformat()
    run.state.pending = PendingApproval(
        step.id, step.kind.value, draft, now.isoformat(), due, asked.approvers
    )
    run.decision, run.decision_kind = None, ""
    run.status(CaseStatus.AWAITING_APPROVAL)
    run.audit("complaintflow", "approval requested", step.id, draft)
    run.publish()
    try:
        if not await _decision(run, step, draft):
            return None if asked.on_timeout == "skip" else draft
        decided = run.decision
        assert decided is not None
        if run.decision_kind == "reject":
            return None
        return decided.text if run.decision_kind == "edit" else draft
    finally:
        run.state.pending = None
        run.search[search.CASE_AWAITING_APPROVAL.name] = False


async def _decision(run: CaseRun, step: Step, draft: str) -> bool:
    """Wait for a decision; False when the approval timed out into "approve" or "skip"."""
    asked = step.approval
    assert asked is not None
    # New cases carry the approval's deadline across continue-as-new (as event waits do):
    # otherwise a case that keeps continuing as new (signals keep coming) restarts its clock
    # each time and the approval never times out.
    resumes = workflow.patched(versions.APPROVAL_DEADLINE_RESUMES)
    wait: timedelta | None = (
        timeout(run, asked.timeout_seconds) if resumes else timedelta(seconds=asked.timeout_seconds)
    )
    while True:
        try:
            await until(
                run,
                lambda: run.decision is not None or run.closed or long(),
                wait,
                f"approval of {step.id}",
            )
            if run.decision is None and not run.closed:
                raise RollOver  # asked again after continuing as new
            break
        except TimeoutError:
            outcome = asked.on_timeout
            run.audit("complaintflow", f"approval timed out: {outcome}", step.id)
            if outcome in ("approve", "skip"):
                return False
            if outcome == "close":
                run.close("complaintflow", f"no decision on {step.id}")
                raise Closed from None
            await run.escalate(
                "complaintflow",
                "high",
                step.id,
                text=f"no decision on {step.id} in {format_duration(asked.timeout_seconds)}",
            )
            wait = None  # escalated once; now wait for a decision
            if resumes:
                run.wait_until = FOREVER  # so a next run does not escalate again
    if run.closed:
        raise Closed
    return True


async def await_event(run: CaseRun, step: Step) -> None:
    """Wait for the step's event (resolution, contact, route or a named signal)."""
    event = step.event or "resolution"
    run.status(AWAITED_STATUS.get(event, CaseStatus.WAITING))
    run.publish()

    def done() -> bool:
        if event == "resolution":
            return run.state.resolved
        if event == "contact":
            return run.state.contacted
        if event == "route":
            return run.route_to is not None
        return (step.signal or "") in run.state.events

    wait = timeout(run, step.timeout_seconds or None)
    try:
        await until(run, lambda: done() or run.closed or long(), wait, f"{step.id}: {event}")
        if not done() and not run.closed:
            raise RollOver  # waits again, for what remains, after continuing as new
    except TimeoutError:
        outcome = step.on_timeout or "continue"
        run.audit("complaintflow", f"{event} did not come: {outcome}", step.id)
        if outcome == "close":
            run.close("complaintflow", f"no {event} in time")
        elif outcome == "escalate":
            await run.escalate(
                "complaintflow",
                "high",
                step.id,
                text=f"still no {event} on case {run.state.case_id}",
            )
    if run.closed:
        raise Closed


async def await_contact(run: CaseRun, step: Step) -> None:
    """After a hand-off, wait for the customer to get in touch offline."""
    run.status(CaseStatus.AWAITING_CONTACT)
    run.publish()
    try:
        await until(
            run,
            lambda: run.state.contacted or run.closed,
            timedelta(seconds=step.await_contact_seconds or 0),
            f"{step.id}: customer contact",
        )
    except TimeoutError:
        outcome = step.on_no_contact or "close"
        run.audit("complaintflow", f"no contact from the customer: {outcome}", step.id)
        if outcome == "close":
            run.close("complaintflow", "the customer did not get in touch")
        elif outcome == "escalate":
            await run.escalate(
                "complaintflow", "high", step.id, text="the customer did not get in touch"
            )
    if run.closed:
        raise Closed


async def wait_or_close(run: CaseRun, duration: timedelta) -> None:
    """Wait out `duration` unless the case closes first."""
    try:
        await until(run, lambda: run.closed or long(), duration)
    except TimeoutError:
        return
    if not run.closed:
        raise RollOver
    raise Closed


async def watch_sla(run: CaseRun, due: datetime) -> None:
    """Escalate when the first public answer is late, then at each further level."""

    def answered() -> bool:
        return bool(run.state.first_response_at) or run.closed

    if not run.state.sla_breached:  # (a case that continued as new may be past this)
        remaining = (due - workflow.now()).total_seconds()
        if remaining > 0:
            try:
                await until(
                    run,
                    answered,
                    timedelta(seconds=remaining),
                    "SLA: first public answer",
                    parks=False,
                )
                return
            except TimeoutError:
                pass
        elif answered():
            return
        run.state.sla_breached = True
        run.audit(
            "complaintflow",
            "SLA breached",
            detail="no public answer within "
            f"{format_duration(run.playbook.respond_within_seconds)}",
        )
        if not run.playbook.escalations:
            await run.escalate("complaintflow", "urgent", text="SLA breached")
    await _sla_levels(run, due, answered)


async def _sla_levels(run: CaseRun, due: datetime, answered: Callable[[], bool]) -> None:
    """The playbook's further escalations past the SLA, each once, while no one answered."""
    for number, level in enumerate(run.playbook.escalations):
        if number < run.sla_done:
            continue
        wait = (due + timedelta(seconds=level.after_seconds) - workflow.now()).total_seconds()
        if wait > 0:
            try:
                await until(run, answered, timedelta(seconds=wait), parks=False)
                return
            except TimeoutError:
                pass
        if answered():
            return
        await run.escalate(
            "complaintflow",
            level.priority or "urgent",
            via=level.via,
            target=level.target,
            text=f"SLA breached on case {run.state.case_id}: no public "
            f"answer yet ({run.state.platform}, @{run.state.author}).",
        )
        run.sla_done = number + 1

"""Steps that go on without waiting, run together: one shared activity for all their calls.

After an approval (or a wait) a playbook often acts several times in a row: reply, hand off,
and the label the approval gave; archive, hide, thank. Each activity is a billed action on
Temporal Cloud, so new cases (versions.STEPS_TOGETHER) make those calls in one activity
(workflows/together.py) and then settle each step as its own runner would: record what it
made, audit it, escalate a failure. A call the shared activity could not make for now runs
again as its own activity, marked as tried so that it looks for itself before posting.

A step joins the steps before it when it asks no approval, its kind only makes calls, and
its condition reads nothing those steps change; a handoff that waits for the customer ends
the stretch.
"""

import dataclasses

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from complaintflow.learning.labels import RECORD_LABEL
    from complaintflow.rules.model import Step, StepKind
    from complaintflow.workflows import registry
    from complaintflow.workflows.case.running import ACTIVITY_RETRY, ACTIVITY_TIMEOUT, CaseRun
    from complaintflow.workflows.case.steps import (
        RUNNERS,
        after_handoff,
        prepare,
        record,
        removal,
        removal_refusal,
        run_step,
    )
    from complaintflow.workflows.messages import ActionResult, CaseStatus
    from complaintflow.workflows.together import (
        DONE,
        FAILED,
        RETRY,
        RUN_STEPS,
        CallOutcome,
        StepCall,
    )

# Kinds whose work is calls that take moments.
TOGETHER = (
    StepKind.NOTIFY,
    StepKind.REPLY,
    StepKind.TICKET,
    StepKind.HANDOFF,
    StepKind.REMOVE_PUBLIC,
)
# What running those steps changes that a condition can read (a failed call escalates; a
# private case's handoff records its contact): a step whose condition reads one runs alone.
CHANGED_BY_STEPS = ("case.escalated", "case.priority", "case.contacted", "case.sla_breached")


@dataclasses.dataclass
class Member:
    """A step of the stretch, with its text and its calls (none: a refused removal)."""

    step: Step
    text: str
    calls: list[StepCall]
    refusal: str = ""


async def run_from(run: CaseRun, steps: tuple[Step, ...], index: int) -> int:
    """Run the step at `index` and the steps after it that join it; the next step's index."""
    step = steps[index]
    if step.kind not in TOGETHER:
        await run_step(run, step)
        return index + 1
    text = await prepare(run, step)
    if text is None:
        return index + 1
    members = [_member(run, step, text, 0)]
    following = index + 1
    while following < len(steps) and _joins(run, steps[following], members):
        later = steps[following]
        following += 1
        later_text = await prepare(run, later)  # asks no approval: does not wait
        if later_text is not None:
            members.append(_member(run, later, later_text, len(members)))
    await _run(run, members)
    return following


def _joins(run: CaseRun, step: Step, members: list[Member]) -> bool:
    """Whether `step` can run with the steps before it."""
    if run.closed or run.route_to is not None:
        return False
    if step.kind not in TOGETHER or step.approval is not None:
        return False
    last = members[-1].step
    waits = last.kind is StepKind.HANDOFF and bool(last.await_contact_seconds)
    if waits and not run.case.mention.private:
        return False  # it waits for the customer
    if step.when is not None and any(name in step.when for name in CHANGED_BY_STEPS):
        return False
    if step.template and any(m.step.kind is StepKind.TICKET for m in members):
        template = run.policy.template(step.template)
        texts = [template.parts, *(t.parts for t in template.translations)]
        if any("case.ticket_id" in parts[1::2] for parts in texts):
            return False  # it names the ticket a step before it opens
    return True


def _member(run: CaseRun, step: Step, text: str, number: int) -> Member:
    if step.kind is StepKind.REMOVE_PUBLIC:
        if refusal := removal_refusal(run, step):
            return Member(step, text, [], refusal)
        archive = run.request(step, run.case.mention.text)
        remove = run.request(step, "")
        return Member(
            step,
            text,
            [
                StepCall(registry.ARCHIVE_POST, number, request=archive),
                StepCall(registry.STEP_ACTIVITIES[step.kind], number, request=remove),
            ],
        )
    request = run.request(step, text)
    return Member(step, text, [StepCall(registry.STEP_ACTIVITIES[step.kind], number, request)])


async def _run(run: CaseRun, members: list[Member]) -> None:
    """Make the members' calls (and write a label the case owes) in one activity, then settle
    each member in order; a single call runs as its own activity, as it always did."""
    calls = [call for member in members for call in member.calls]
    label = run.labelling.claim() if run.labelling is not None else None
    if label is not None:
        calls.append(StepCall(RECORD_LABEL, len(members), label=label))
    if len(calls) < 2:
        if label is not None and run.labelling is not None:
            run.labelling.release()
        for member in members:
            run.state.current_step = member.step.id
            await RUNNERS[member.step.kind](run, member.step, member.text)
            run.status(CaseStatus.OPEN)
        return
    named = ", ".join(m.step.id for m in members) + (" and the label" if label else "")
    try:
        outcomes: list[CallOutcome] = await workflow.execute_activity(
            RUN_STEPS,
            calls,
            result_type=list[CallOutcome],
            start_to_close_timeout=ACTIVITY_TIMEOUT * len(calls),
            retry_policy=ACTIVITY_RETRY,
            summary=f"together: {named}"[:200],
        )
    except ActivityError as err:  # not made at all: each call runs as its own activity
        outcomes = [CallOutcome(RETRY, error=str(err.cause or err))] * len(calls)
    if label is not None and run.labelling is not None:
        if outcomes[-1].outcome == DONE:
            run.labelling.written()
        else:
            run.labelling.release()
    for number, member in enumerate(members):
        run.state.current_step = member.step.id
        made = [
            (call, outcome)
            for call, outcome in zip(calls, outcomes, strict=True)
            if call.request is not None and call.step == number
        ]
        await _settle(run, member, made)
        run.status(CaseStatus.OPEN)


async def _settle(run: CaseRun, member: Member, made: list[tuple[StepCall, CallOutcome]]) -> None:
    """What one member's calls came to, as its runner would have recorded it."""
    step = member.step
    what = f"{step.id}: {step.kind.value} on {run.state.platform}"
    if step.kind is StepKind.REMOVE_PUBLIC:
        if member.refusal:
            run.audit("complaintflow", "removal refused", step.id, member.refusal)
            return
        await removal(
            run,
            step,
            archive=lambda: _outcome(run, *made[0], f"{step.id}: archive the public post"),
            remove=lambda: _outcome(run, *made[1], what),
        )
        return
    record(run, step, await _outcome(run, *made[0], what))
    if step.kind is StepKind.HANDOFF:
        await after_handoff(run, step)


async def _outcome(
    run: CaseRun, call: StepCall, outcome: CallOutcome, what: str
) -> ActionResult | None:
    """A call's result; a call not made (yet) runs now as its own activity."""
    request = call.request
    assert request is not None
    if outcome.outcome == DONE:
        return outcome.result or ActionResult()
    if outcome.outcome == FAILED:
        await run.failed(request, outcome.error)
        return None
    # RETRY, or SKIPPED after an earlier call of its step failed: either may have been made
    # by an earlier attempt of the shared activity (a worker died mid-way), so it looks first.
    return await run.call(call.activity, dataclasses.replace(request, tried=True), what)

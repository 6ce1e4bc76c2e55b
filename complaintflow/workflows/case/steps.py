"""The step interpreter: one runner per step kind, in a table, and what every step does first.

A step first checks its condition, drafts its text and waits for its approval; then the
runner for its kind does the work. A kind is specified in complaintflow/rules/steps/ (pure,
no Temporal); its runner is the one part that lives here, in `RUNNERS`.

New cases run the steps that go on without waiting together (workflows/case/stretch.py).
"""

from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from complaintflow.rules.model import Step, StepKind
    from complaintflow.workflows import registry
    from complaintflow.workflows.case import contact as contacts
    from complaintflow.workflows.case import waiting
    from complaintflow.workflows.case.reading import draft, holds
    from complaintflow.workflows.case.running import CaseRun
    from complaintflow.workflows.case.versions import GUARD_BEFORE_APPROVAL
    from complaintflow.workflows.messages import ActionResult, CaseStatus

StepRunner = Callable[[CaseRun, Step, str], Awaitable[None]]


async def run_step(run: CaseRun, step: Step) -> None:
    """Run one step of the playbook: condition, draft, removal guard, approval, then its kind."""
    text = await prepare(run, step)
    if text is None:
        return
    await RUNNERS[step.kind](run, step, text)
    run.status(CaseStatus.OPEN)


async def prepare(run: CaseRun, step: Step) -> str | None:
    """What every step does first: its condition, its draft, the removal guard, its approval.
    The text to act with, or None when the step is skipped."""
    run.state.current_step = step.id
    if step.when is not None and not holds(run, step):
        run.audit("complaintflow", "step skipped", step.id, f"when {step.when} is false")
        return None
    text = draft(run, step)
    if (  # ask no one to approve a removal that cannot happen
        step.kind is StepKind.REMOVE_PUBLIC
        and workflow.patched(GUARD_BEFORE_APPROVAL)
        and (refusal := removal_refusal(run, step, before_approval=True))
    ):
        run.audit("complaintflow", "removal refused", step.id, refusal)
        return None
    if step.approval is not None:
        return await waiting.approval(run, step, text)
    return text


async def act(run: CaseRun, step: Step, text: str) -> None:
    """Carry out the step through the activity registered for its kind."""
    kind = step.kind
    result = await run.call(
        registry.STEP_ACTIVITIES[kind],
        run.request(step, text),
        f"{step.id}: {kind.value} on {run.state.platform}",
    )
    record(run, step, result)


def record(run: CaseRun, step: Step, result: ActionResult | None) -> None:
    """What a step's call made (None: it failed, and was audited)."""
    if result is None:
        return
    kind = step.kind
    if kind is StepKind.REPLY:
        run.state.replies.append(result.ref)
        if not run.state.first_response_at:
            run.state.first_response_at = workflow.now().isoformat()
    elif kind is StepKind.TICKET:
        run.state.ticket_id = result.ref
    run.audit("complaintflow", f"{kind.value} done", step.id, result.ref)


async def handoff(run: CaseRun, step: Step, text: str) -> None:
    """Invite the customer to a private channel, then wait for them if the step says so.

    A case opened by a private message is offline already: its offer (email, phone, the
    case reference) is sent in that conversation, and the private complaint itself is the
    customer's contact, so there is nothing to wait for (the report counts it as moved
    offline and contacted). Cases of public posts never take this path.
    """
    await act(run, step, text)
    await after_handoff(run, step)


async def after_handoff(run: CaseRun, step: Step) -> None:
    """A private case is offline already; a public one waits for the customer, if asked."""
    mention = run.case.mention
    if mention.private:
        if not run.state.contacted:
            contacts.record(
                run, channel=mention.kind, by="customer", text="", at=mention.created_at
            )
        run.audit(
            "complaintflow",
            "already offline",
            step.id,
            "the customer wrote privately: the conversation is their contact",
        )
        return
    if step.await_contact_seconds:
        await waiting.await_contact(run, step)


async def await_(run: CaseRun, step: Step, text: str) -> None:
    await waiting.await_event(run, step)


async def wait(run: CaseRun, step: Step, text: str) -> None:
    run.status(CaseStatus.WAITING)
    run.publish()
    duration = waiting.timeout(run, step.duration_seconds or 0) or timedelta(0)
    await waiting.wait_or_close(run, duration)


async def close(run: CaseRun, step: Step, text: str) -> None:
    run.close("complaintflow", step.reason or "done")


async def escalate(run: CaseRun, step: Step, text: str) -> None:
    await run.escalate(
        "complaintflow",
        step.priority or "high",
        step.id,
        via=step.via or "",
        target=step.target or "",
        text=text,
    )


def removal_refusal(run: CaseRun, step: Step, *, before_approval: bool = False) -> str:
    """Why removal `step` must not run: "" if it may.

    The X rule is checked only before the approval (the patched path): cases recorded
    before it asked first and let X's 403 answer, and must replay as they ran.
    """
    platform = run.state.platform
    mention = run.case.mention
    if mention.private:  # checked first: no case of a public post is private
        return "the complaint was a private message: there is nothing public to remove"
    if platform not in step.channels or run.policy.account(platform) is None:
        return f"the brand does not own a {platform} channel where it may {step.action}"
    if not run.state.resolved:
        return "the case is not resolved"
    if before_approval and platform == "x" and mention.thread == mention.id:
        return "X lets a brand hide only replies in a conversation it started"
    return ""


async def remove_public(run: CaseRun, step: Step, text: str) -> None:
    """Archive the public post, then hide or delete it where the brand may."""
    if refusal := removal_refusal(run, step):
        run.audit("complaintflow", "removal refused", step.id, refusal)
        return
    kind = step.kind
    await removal(
        run,
        step,
        archive=lambda: run.call(
            registry.ARCHIVE_POST,
            run.request(step, run.case.mention.text),
            f"{step.id}: archive the public post",
        ),
        remove=lambda: run.call(
            registry.STEP_ACTIVITIES[kind],
            run.request(step, ""),
            f"{step.id}: {kind.value} on {run.state.platform}",
        ),
    )


Call = Callable[[], Awaitable[ActionResult | None]]


async def removal(run: CaseRun, step: Step, *, archive: Call, remove: Call) -> None:
    """Archive, then remove only once the post is archived; audited and recorded as a step."""
    archived = await archive()
    if archived is None:
        run.audit("complaintflow", "removal refused", step.id, "archiving failed")
        return
    run.audit("complaintflow", "public post archived", step.id, archived.ref)
    record(run, step, await remove())


RUNNERS: dict[StepKind, StepRunner] = {
    StepKind.NOTIFY: act,
    StepKind.REPLY: act,
    StepKind.HANDOFF: handoff,
    StepKind.TICKET: act,
    StepKind.AWAIT: await_,
    StepKind.WAIT: wait,
    StepKind.ESCALATE: escalate,
    StepKind.REMOVE_PUBLIC: remove_public,
    StepKind.CLOSE: close,
}

"""CaseWorkflow: one durable workflow per complaint thread, interpreting its pinned playbook.

Supervisors act through Updates with validators (approve, edit, reject, resolve, escalate,
close, dismiss, route, contact), mirrored as signals for systems that can only signal.
Deterministic: all time comes from workflow.now() and timers, all I/O goes through activities
named in the registry.
"""

import asyncio
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from complaintflow.workflows import search
    from complaintflow.workflows.case import contact as contacts
    from complaintflow.workflows.case import stretch, supervision, waiting
    from complaintflow.workflows.case.labelling import Labelling, check_dismiss
    from complaintflow.workflows.case.running import CaseRun, clip, higher
    from complaintflow.workflows.case.steps import run_step
    from complaintflow.workflows.case.supervision import DECIDED, action_of
    from complaintflow.workflows.case.thread import add_post, record_event
    from complaintflow.workflows.case.versions import (
        FEWER_ACTIONS,
        ONE_DECISION_PER_STEP,
        RECORD_LABELS,
        STEPS_TOGETHER,
    )
    from complaintflow.workflows.case.visibility import complaint_time, first_approval
    from complaintflow.workflows.messages import (
        CaseEvent,
        CaseInput,
        CaseState,
        CaseStatus,
        ContactAction,
        CustomerContact,
        Refused,
        SupervisorAction,
        parse_payload,
        read_thread_update,
    )


@workflow.defn(name="CaseWorkflow")
class CaseWorkflow:
    """Runs a complaint's playbook: reply, move offline, resolve, tidy up; with approvals."""

    @workflow.init
    def __init__(self, case: CaseInput) -> None:
        self.running = CaseRun(case)
        self.labelling = Labelling(self.running)

    @property
    def state(self) -> CaseState:
        return self.running.state

    # -- the run -----------------------------------------------------------------------------
    @workflow.run
    async def run(self, case: CaseInput) -> CaseState:
        run = self.running
        publisher = None
        if workflow.patched(FEWER_ACTIONS):
            run.economise()
            publisher = asyncio.create_task(run.publisher())
        run.together = workflow.patched(STEPS_TOGETHER)
        if workflow.patched(RECORD_LABELS):
            self.labelling.start()
        due = self._open(case)
        run.search[search.CASE_SLA_DUE.name] = due
        if run.frugal and (first := first_approval(run.playbook)) is not None:
            run.alarm.expect(workflow.now() + first, "approval (and SLA)")
        sla = asyncio.create_task(waiting.watch_sla(run, due))
        try:
            await self._interpret()
        except waiting.Closed:
            pass
        except waiting.RollOver:
            sla.cancel()
            await workflow.wait_condition(workflow.all_handlers_finished)
            await self.labelling.finish()
            if not run.closed:
                waiting.continue_as_new(run, case)
        finally:
            sla.cancel()
            run.alarm.stop()
            if publisher is not None:
                publisher.cancel()
        if not run.closed:
            run.close("complaintflow", "playbook finished")
        run.publish()
        run.flush()  # the cheaper path publishes here what it kept for its next wait
        await self.labelling.finish()
        return run.state

    def _open(self, case: CaseInput) -> datetime:
        """Start the case's record (or note that it continued); when its SLA is due."""
        run = self.running
        if case.resume is not None:
            run.audit("complaintflow", "case continued", detail="its history grew long")
            return datetime.fromisoformat(run.state.sla_due)
        posted = complaint_time(case, workflow.info().start_time) or workflow.now()
        due = posted + timedelta(seconds=run.playbook.respond_within_seconds)
        run.state.posted_at = posted.isoformat()
        run.state.sla_due = due.isoformat()
        run.audit(
            "complaintflow",
            "case opened",
            detail=f"score {case.decision.score}, route {case.decision.route}, "
            f"policy {run.policy.label}",
        )
        return due

    async def _interpret(self) -> None:
        """Run the playbook's steps from where the case is; on a route, the new playbook's."""
        run = self.running
        while True:
            steps = run.playbook.steps
            index = run.step_index
            while index < len(steps):
                if run.closed or run.route_to is not None:
                    break
                run.step_index = index
                run.wait_until = None
                if waiting.long():
                    raise waiting.RollOver
                if run.together:
                    index = await stretch.run_from(run, steps, index)
                else:
                    await run_step(run, steps[index])
                    index += 1
            if run.closed or run.route_to is None:
                return
            self._switch(run.route_to)
            run.step_index = 0

    def _switch(self, action: SupervisorAction) -> None:
        """Go on with the playbook a supervisor routed the case to, from its first step."""
        run = self.running
        run.route_to = None
        run.approved_ahead.clear()  # approvals were given for the old playbook's steps
        run.playbook = run.policy.playbook(action.playbook)
        run.state.playbook = run.playbook.name
        run.state.route = f"routed by {action.by}"
        run.search[search.CASE_ROUTE.name] = run.state.route
        if higher(run.playbook.priority, run.state.priority):
            run.state.priority = run.playbook.priority
        run.status(CaseStatus.OPEN)
        run.publish()

    # -- supervisor updates ------------------------------------------------------------------
    @workflow.update(
        description="Approve the step waiting for approval. Payload: "
        '{"step": "STEP", "by": "YOUR NAME"}'
    )
    async def approve(self, action: Any) -> str:
        return self._decide("approve", action_of(action))

    @approve.validator
    def _check_approve(self, action: Any) -> None:
        parsed = parse_payload(SupervisorAction, action, what="approve")
        supervision.check_pending(self.running, parsed)

    @workflow.update(
        description="Approve with new text. Payload: "
        '{"step": "STEP", "by": "YOUR NAME", "text": "NEW TEXT"}'
    )
    async def edit(self, action: Any) -> str:
        return self._decide("edit", action_of(action))

    @edit.validator
    def _check_edit(self, action: Any) -> None:
        parsed = parse_payload(SupervisorAction, action, what="edit")
        supervision.check_pending(self.running, parsed)
        supervision.check_text(self.running, parsed.text)

    @workflow.update(
        description="Reject the step waiting for approval; it is skipped. "
        'Payload: {"step": "STEP", "by": "YOUR NAME", "note": "WHY"}'
    )
    async def reject(self, action: Any) -> str:
        return self._decide("reject", action_of(action))

    @reject.validator
    def _check_reject(self, action: Any) -> None:
        parsed = parse_payload(SupervisorAction, action, what="reject")
        supervision.check_pending(self.running, parsed)

    @workflow.update(
        description='Mark the customer\'s problem resolved; "approve" (optional) names later '
        "steps to approve now, e.g. the removal of the public post. Payload: "
        '{"by": "YOUR NAME", "note": "WHAT WAS DONE", "approve": "STEP, STEP"}'
    )
    async def resolve(self, action: Any) -> str:
        self._apply("resolve", action_of(action))
        return f"case {self.state.case_id} marked resolved"

    @resolve.validator
    def _check_resolve(self, action: Any) -> None:
        parsed = parse_payload(SupervisorAction, action, what="resolve")
        supervision.check_resolve(self.running, parsed)

    @workflow.update(
        description="Escalate the case (alert and raise its priority). Payload: "
        '{"by": "YOUR NAME", "priority": "urgent", "note": "WHY"}'
    )
    async def escalate(self, action: Any) -> str:
        parsed = action_of(action)
        await self.running.escalate(parsed.by, parsed.priority or "high", text=parsed.note)
        return f"case {self.state.case_id} escalated to {self.state.priority}"

    @escalate.validator
    def _check_escalate(self, action: Any) -> None:
        parsed = parse_payload(SupervisorAction, action, what="escalate")
        supervision.check_escalate(self.running, parsed)

    @workflow.update(description='Close the case now. Payload: {"by": "YOUR NAME", "note": "WHY"}')
    async def close(self, action: Any) -> str:
        self._apply("close", action_of(action))
        return f"case {self.state.case_id} closed"

    @close.validator
    def _check_close(self, action: Any) -> None:
        parsed = parse_payload(SupervisorAction, action, what="close")
        supervision.check_open(self.running, parsed)

    @workflow.update(
        description="Not a complaint: close the case, post nothing, and label the post so. "
        'Payload: {"by": "YOUR NAME", "note": "WHY, e.g. praise"}'
    )
    async def dismiss(self, action: Any) -> str:
        self._apply("dismiss", action_of(action))
        return f"case {self.state.case_id} dismissed: not a complaint"

    @dismiss.validator
    def _check_dismiss(self, action: Any) -> None:
        parsed = parse_payload(SupervisorAction, action, what="dismiss")
        check_dismiss(self.running, parsed)

    @workflow.update(
        description="Route the case to a playbook (a post the policy could not read). "
        'Payload: {"playbook": "standard", "by": "YOUR NAME", "note": "WHY"}'
    )
    async def route(self, action: Any) -> str:
        parsed = action_of(action)
        self.running.route_to = parsed
        self.running.audit(
            parsed.by,
            "routed",
            self.state.current_step,
            f"to playbook {parsed.playbook}; {parsed.note}".strip("; "),
        )
        return f"case {self.state.case_id} routed to {parsed.playbook} by {parsed.by}"

    @route.validator
    def _check_route(self, action: Any) -> None:
        parsed = parse_payload(SupervisorAction, action, what="route")
        supervision.check_route(self.running, parsed)

    @workflow.update(
        description="Record the customer's contact (a call, an email to a person); it ends the "
        'handoff wait. Payload: {"by": "YOUR NAME", "channel": "phone", "note": "WHAT WAS SAID"}'
    )
    async def contact(self, action: Any) -> str:
        return self._contacted(parse_payload(ContactAction, action, what="contact"))

    @contact.validator
    def _check_contact(self, action: Any) -> None:
        contacts.check_contact(self.running, parse_payload(ContactAction, action, what="contact"))

    # -- the same as signals, for systems that can only signal -------------------------------
    @workflow.signal(name="contact_signal", description="Same as the contact update.")
    def contact_signal(self, payload: Any = None) -> None:
        try:
            self._check_contact(payload)
        except Refused as problem:
            self.running.audit("complaintflow", "ignored a contact signal", detail=str(problem))
            return
        self._contacted(parse_payload(ContactAction, payload, what="contact"))

    @workflow.signal(name="approve_signal", description="Same as the approve update.")
    def approve_signal(self, payload: Any = None) -> None:
        self._signalled("approve", payload)

    @workflow.signal(name="edit_signal", description="Same as the edit update.")
    def edit_signal(self, payload: Any = None) -> None:
        self._signalled("edit", payload)

    @workflow.signal(name="reject_signal", description="Same as the reject update.")
    def reject_signal(self, payload: Any = None) -> None:
        self._signalled("reject", payload)

    @workflow.signal(name="resolve_signal", description="Same as the resolve update.")
    def resolve_signal(self, payload: Any = None) -> None:
        self._signalled("resolve", payload)

    @workflow.signal(name="close_signal", description="Same as the close update.")
    def close_signal(self, payload: Any = None) -> None:
        self._signalled("close", payload)

    @workflow.signal(name="dismiss_signal", description="Same as the dismiss update.")
    def dismiss_signal(self, payload: Any = None) -> None:
        self._signalled("dismiss", payload)

    @workflow.signal(
        description="The customer got in touch offline (sent by ingest or a helpdesk). Payload: "
        '{"channel": "email", "reference": "...", "text": "WHAT THEY WROTE", "at": "ISO TIME"}'
    )
    def customer_contact(self, payload: Any = None) -> None:
        run = self.running
        try:
            received = parse_payload(CustomerContact, payload, what="customer_contact")
        except Refused as problem:
            run.audit("complaintflow", "ignored a customer_contact signal", detail=str(problem))
            return
        try:
            contacts.check_signalled(received)
        except Refused as problem:
            run.audit("complaintflow", "ignored a customer_contact signal", detail=str(problem))
            return
        channel = received.channel.strip() or "unknown"
        entry = contacts.record(
            run, channel=channel, by="customer", text=received.text, at=received.at
        )
        self.labelling.give("contact", received.channel)
        detail = "; ".join(p for p in (received.reference, entry.text) if p)
        run.audit(received.channel, "customer made contact", detail=detail)
        run.publish()

    @workflow.signal(description='A named event a playbook can await. Payload: {"name": "..."}')
    def event(self, payload: Any = None) -> None:
        try:
            received = parse_payload(CaseEvent, payload, what="event")
        except Refused as problem:
            self.running.audit("complaintflow", "ignored an event signal", detail=str(problem))
            return
        record_event(self.running, received)

    @workflow.signal(description="A later post in the complaint's thread (sent by ingest).")
    async def thread_update(self, update: Any) -> None:
        try:
            post = read_thread_update(update)
        except Refused as problem:
            self.running.audit("complaintflow", "ignored a thread_update", detail=str(problem))
            return
        await add_post(self.running, post)

    @workflow.query(description="The whole case: status, pending approval, audit trail.")
    def state_query(self) -> CaseState:
        return self.state

    # -- handler helpers ---------------------------------------------------------------------
    def _decide(self, kind: str, action: SupervisorAction) -> str:
        run = self.running
        pending = run.state.pending
        assert pending is not None
        run.decision, run.decision_kind = action, kind
        self.labelling.answered(kind, action.by)
        what = DECIDED[kind]
        run.decided[pending.step] = f"{what} by {clip(action.by, 100)}"
        run.audit(action.by, what, pending.step, action.text or action.note)
        return f"{pending.step} {what} by {action.by}"

    def _contacted(self, action: ContactAction) -> str:
        run = self.running
        contacts.record(run, channel=action.channel, by=action.by, text=action.note)
        self.labelling.give("contact", action.by)
        run.audit(
            action.by, "recorded the customer's contact", detail=f"{action.channel}: {action.note}"
        )
        run.publish()
        return f"case {self.state.case_id}: contact by {action.channel} recorded by {action.by}"

    def _apply(self, kind: str, action: SupervisorAction) -> None:
        run = self.running
        if kind == "resolve":
            run.state.resolved = True
            self.labelling.give("resolve", action.by)
            run.audit(action.by, "marked resolved", detail=action.note)
            for step_id in supervision.ahead(action):
                run.approved_ahead[step_id] = clip(action.by, 100)
                run.decided[step_id] = f"approved in advance by {clip(action.by, 100)}"
                run.audit(action.by, "approved", step_id, "in advance, with the resolution")
            run.publish()
        elif kind == "close":
            run.close(action.by, action.note or "closed by a supervisor")
        elif kind == "dismiss":
            self.labelling.give("dismiss", action.by)
            reason = "dismissed as not a complaint" + (f": {action.note}" if action.note else "")
            run.close(action.by, reason)

    def _signalled(self, kind: str, payload: Any) -> None:
        """Apply a supervisor signal if it would pass the update's validator; else record it."""
        checks = {
            "approve": self._check_approve,
            "edit": self._check_edit,
            "reject": self._check_reject,
            "resolve": self._check_resolve,
            "close": self._check_close,
            "dismiss": self._check_dismiss,
        }
        run = self.running
        pending = run.state.pending
        if (  # a second decision signal on a step: cases that ran before let the last one win
            kind in DECIDED
            and run.decision is not None
            and pending is not None
            and not workflow.patched(ONE_DECISION_PER_STEP)
        ):
            earlier = action_of(payload)
            if earlier.by.strip() and earlier.step == pending.step:
                self._decide(kind, earlier)
            return
        try:
            checks[kind](payload)
            action = parse_payload(SupervisorAction, payload, what=kind)
        except ValueError as problem:
            run.audit("complaintflow", f"ignored a {kind} signal", detail=str(problem))
            return
        if kind in ("approve", "edit", "reject"):
            self._decide(kind, action)
        else:
            self._apply(kind, action)

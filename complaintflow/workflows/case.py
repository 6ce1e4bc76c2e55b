"""CaseWorkflow: one durable workflow per complaint thread, interpreting its pinned playbook.

Supervisors act through Updates with validators (approve, edit, reject, resolve, escalate,
close), mirrored as signals for systems that can only signal. Deterministic: all time comes
from workflow.now() and timers, all I/O goes through activities named in the registry.
"""

import asyncio
import dataclasses
import json
import re
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from complaintflow.rules.bindings import mention_scope, step_scope
    from complaintflow.rules.compiler import programs_for
    from complaintflow.rules.durations import format_duration
    from complaintflow.rules.expressions import EvalError, normalise_text, text_in_scope
    from complaintflow.rules.features import is_thanks
    from complaintflow.rules.language import playbooks_in, replies_in
    from complaintflow.rules.model import CompiledPolicy, Playbook, Step, StepKind
    from complaintflow.rules.templates import (
        MESSAGE_LIMITS,
        REPLY_LIMITS,
        TEMPLATE_VARIABLES,
        post_length,
        render_parts,
    )
    from complaintflow.workflows import registry, search
    from complaintflow.workflows.messages import (
        ActionRequest,
        ActionResult,
        AuditEntry,
        CaseEvent,
        CaseInput,
        CaseState,
        CaseStatus,
        CustomerContact,
        PendingApproval,
        Refused,
        Resume,
        SupervisorAction,
        ThreadUpdate,
        parse_payload,
    )

PRIORITIES = ("low", "normal", "high", "urgent")
# Workflow versions (workflow.patched): histories recorded before a change replay as they ran.
GUARD_BEFORE_APPROVAL = "removal-guard-before-approval"
CLIP_TEMPLATE_VALUES = "clip-template-values"
ONE_DECISION_PER_STEP = "one-decision-per-step"
# Bounds on what a case keeps, well under Temporal's 2 MB payload limit for its state query.
MAX_AUDIT = 300  # audit entries kept: the first few and the latest
AUDIT_HEAD = 20
MAX_AUDIT_TEXT = 500  # characters of one entry's who/what/detail
MAX_MENTION_IDS = 200  # latest post ids kept to recognise redeliveries
MAX_EVENT_NAMES = 50  # event names kept besides those the playbook awaits
DECIDED = {"approve": "approved", "edit": "approved with edits", "reject": "rejected"}
# A case continues as new (same id, state carried over) once its history has this many
# events, or when the server suggests it: far below Temporal's 51,200-event limit.
ROLL_OVER_EVENTS = 10_000
ADDRESSED_BY_HANDLE = "mention-addressed-by-brand-handle"  # as triage computes it
ACTIVITY_TIMEOUT = timedelta(seconds=30)
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)


class _Closed(Exception):
    """Raised inside the interpreter when the case was closed while a step waited."""


class _RollOver(Exception):
    """Raised inside the interpreter when the history grew long while a step waited."""


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


@workflow.defn(name="CaseWorkflow")
class CaseWorkflow:
    """Runs a complaint's playbook: reply, move offline, resolve, tidy up; with approvals."""

    @workflow.init
    def __init__(self, case: CaseInput) -> None:
        self.case = case
        self.policy: CompiledPolicy = case.policy
        self.playbook: Playbook = case.policy.playbook(case.decision.playbook or "")
        mention = case.mention
        self.state = CaseState(
            case_id=case.case_id,
            status=CaseStatus.OPEN,
            platform=mention.platform,
            thread_id=mention.thread,
            author=mention.author.handle or mention.author.name,
            score=case.decision.score,
            route=case.decision.route or "",
            playbook=self.playbook.name,
            policy=case.policy.label,
            priority=self.playbook.priority,
            mentions=[mention.id],
            mention_count=1,
        )
        self.state.language = case.decision.language
        self.state.language_confidence = case.decision.language_confidence
        self.decision: SupervisorAction | None = None
        self.decision_kind = ""
        self._route_to: SupervisorAction | None = None  # a person picked the playbook
        self._decided: dict[str, str] = {}  # step id -> "approved by ann": one decision each
        self._step_index = 0
        self._sla_done = 0  # SLA escalation levels already sent
        self._wait_until: datetime | None = None  # the deadline of the wait in progress
        self._resumed_wait: datetime | None = None
        if case.resume is not None:  # continued as new: the same case, a fresh history
            self.state = case.resume.state
            self.playbook = self.policy.playbook(self.state.playbook)  # routed, perhaps
            self._decided = dict(case.resume.decided)
            self._step_index = case.resume.step_index
            self._sla_done = case.resume.sla_levels_done
            if case.resume.wait_until:
                self._resumed_wait = datetime.fromisoformat(case.resume.wait_until)
        self.closed = False
        # What visibility holds now; upserts send only what differs (each is a billed action).
        self._published = initial_search_attributes(case)
        self._search: dict[str, Any] = dict(self._published)
        self._details = ""

    # -- the run -----------------------------------------------------------------------------
    @workflow.run
    async def run(self, case: CaseInput) -> CaseState:
        if case.resume is None:
            posted = complaint_time(case, workflow.info().start_time) or workflow.now()
            due = posted + timedelta(seconds=self.playbook.respond_within_seconds)
            self.state.posted_at = posted.isoformat()
            self.state.sla_due = due.isoformat()
            self._audit(
                "complaintflow",
                "case opened",
                detail=f"score {case.decision.score}, route {case.decision.route}, "
                f"policy {self.policy.label}",
            )
        else:
            due = datetime.fromisoformat(self.state.sla_due)
            self._audit("complaintflow", "case continued", detail="its history grew long")
        self._search[search.CASE_SLA_DUE.name] = due
        sla = asyncio.create_task(self._watch_sla(due))
        try:
            while True:
                steps = self.playbook.steps
                for index in range(self._step_index, len(steps)):
                    if self.closed or self._route_to is not None:
                        break
                    self._step_index = index
                    self._wait_until = None
                    if self._long():
                        raise _RollOver
                    await self._run_step(steps[index])
                if self.closed or self._route_to is None:
                    break
                self._switch(self._route_to)
                self._step_index = 0
        except _Closed:
            pass
        except _RollOver:
            sla.cancel()
            await workflow.wait_condition(workflow.all_handlers_finished)
            if not self.closed:
                self._continue_as_new(case)
        finally:
            sla.cancel()
        if not self.closed:
            self._close("complaintflow", "playbook finished")
        self._publish()
        return self.state

    def _long(self) -> bool:
        """Whether the history grew long enough to continue as new (checked while waiting)."""
        info = workflow.info()
        return (
            info.get_current_history_length() > ROLL_OVER_EVENTS
            or info.is_continue_as_new_suggested()
        )

    def _continue_as_new(self, case: CaseInput) -> None:
        self._audit("complaintflow", "continuing as new", detail="the history grew long")
        self.state.pending = None
        resume = Resume(
            self.state,
            self._step_index,
            dict(self._decided),
            self._sla_done,
            self._wait_until.isoformat() if self._wait_until else "",
        )
        workflow.continue_as_new(
            dataclasses.replace(case, resume=resume),
            search_attributes=workflow.info().typed_search_attributes,
        )

    def _timeout(self, seconds: int | None) -> timedelta | None:
        """A wait of `seconds` for the current step, or what remains of it after a restart."""
        if seconds is None:
            return None
        resumed, self._resumed_wait = self._resumed_wait, None
        now = workflow.now()
        until = resumed if resumed is not None else now + timedelta(seconds=seconds)
        self._wait_until = until
        return max(until - now, timedelta(0))

    async def _run_step(self, step: Step) -> None:
        self.state.current_step = step.id
        if step.when is not None and not self._holds(step):
            self._audit("complaintflow", "step skipped", step.id, f"when {step.when} is false")
            return
        text = self._draft(step)
        if (  # ask no one to approve a removal that cannot happen
            step.kind is StepKind.REMOVE_PUBLIC
            and workflow.patched(GUARD_BEFORE_APPROVAL)
            and (refusal := self._removal_refusal(step, before_approval=True))
        ):
            self._audit("complaintflow", "removal refused", step.id, refusal)
            return
        if step.approval is not None:
            approved = await self._approval(step, text)
            if approved is None:
                return
            text = approved
        kind = step.kind
        if kind is StepKind.AWAIT:
            await self._await(step)
        elif kind is StepKind.WAIT:
            self._status(CaseStatus.WAITING)
            self._publish()
            await self._wait_or_close(self._timeout(step.duration_seconds or 0) or timedelta(0))
        elif kind is StepKind.CLOSE:
            self._close("complaintflow", step.reason or "done")
        elif kind is StepKind.ESCALATE:
            await self._escalate(
                "complaintflow",
                step.priority or "high",
                step.id,
                via=step.via or "",
                target=step.target or "",
                text=text,
            )
        elif kind is StepKind.REMOVE_PUBLIC:
            await self._remove(step)
        else:
            await self._act(step, text)
            if kind is StepKind.HANDOFF and step.await_contact_seconds:
                await self._await_contact(step)
        self._status(CaseStatus.OPEN)

    def _switch(self, action: SupervisorAction) -> None:
        """Go on with the playbook a supervisor routed the case to, from its first step."""
        self._route_to = None
        self.playbook = self.policy.playbook(action.playbook)
        self.state.playbook = self.playbook.name
        self.state.route = f"routed by {action.by}"
        self._search[search.CASE_ROUTE.name] = self.state.route
        if PRIORITIES.index(self.playbook.priority) > PRIORITIES.index(self.state.priority):
            self.state.priority = self.playbook.priority
        self._status(CaseStatus.OPEN)
        self._publish()

    # -- effects -----------------------------------------------------------------------------
    async def _act(self, step: Step, text: str) -> ActionResult | None:
        kind = step.kind
        request = self._request(step, text)
        result = await self._call(
            registry.STEP_ACTIVITIES[kind],
            request,
            f"{step.id}: {kind.value} on {self.state.platform}",
        )
        if result is None:
            return None
        if kind is StepKind.REPLY:
            self.state.replies.append(result.ref)
            if not self.state.first_response_at:
                self.state.first_response_at = workflow.now().isoformat()
        elif kind is StepKind.TICKET:
            self.state.ticket_id = result.ref
        self._audit("complaintflow", f"{kind.value} done", step.id, result.ref)
        return result

    async def _call(
        self, activity: str, request: ActionRequest, summary: str
    ) -> ActionResult | None:
        try:
            result: ActionResult = await workflow.execute_activity(
                activity,
                request,
                result_type=ActionResult,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=ACTIVITY_RETRY,
                summary=summary[:200],
            )
            return result
        except ActivityError as err:
            cause = err.cause or err
            self._audit("complaintflow", "step failed", request.step_id, str(cause))
            if request.kind != StepKind.ESCALATE.value:
                await self._escalate(
                    "complaintflow",
                    "high",
                    request.step_id,
                    text=f"step {request.step_id} failed: {cause}",
                )
            return None

    def _request(self, step: Step, text: str, **changes: str) -> ActionRequest:
        mention = self.case.mention
        fields: dict[str, Any] = {
            "case_id": self.state.case_id,
            "step_id": step.id,
            "kind": step.kind.value,
            "platform": mention.platform,
            "thread_id": mention.thread,
            "mention_id": mention.id,
            "author_id": mention.author.id,
            "author_handle": mention.author.handle,
            "text": text,
            "via": step.via or "",
            "target": step.target or step.system or "",
            "priority": step.priority or "",
            "action": step.action or "",
            "key": f"{self.state.case_id}/{step.id}",
            "account_id": account.id if (account := self.policy.account(mention.platform)) else "",
        }
        fields.update(changes)
        return ActionRequest(**fields)

    def _removal_refusal(self, step: Step, *, before_approval: bool = False) -> str:
        """Why removal `step` must not run: "" if it may.

        The X rule is checked only before the approval (the patched path): cases recorded
        before it asked first and let X's 403 answer, and must replay as they ran.
        """
        platform = self.state.platform
        mention = self.case.mention
        if platform not in step.channels or self.policy.account(platform) is None:
            return f"the brand does not own a {platform} channel where it may {step.action}"
        if not self.state.resolved:
            return "the case is not resolved"
        if before_approval and platform == "x" and mention.thread == mention.id:
            return "X lets a brand hide only replies in a conversation it started"
        return ""

    async def _remove(self, step: Step) -> None:
        if refusal := self._removal_refusal(step):
            self._audit("complaintflow", "removal refused", step.id, refusal)
            return
        archived = await self._call(
            registry.ARCHIVE_POST,
            self._request(step, self.case.mention.text),
            f"{step.id}: archive the public post",
        )
        if archived is None:
            self._audit("complaintflow", "removal refused", step.id, "archiving failed")
            return
        self._audit("complaintflow", "public post archived", step.id, archived.ref)
        await self._act(step, "")

    async def _escalate(
        self,
        who: str,
        priority: str,
        step: str = "",
        *,
        via: str = "",
        target: str = "",
        text: str = "",
    ) -> None:
        if PRIORITIES.index(priority) > PRIORITIES.index(self.state.priority):
            self.state.priority = priority
        self.state.escalated = True
        self._search[search.CASE_PRIORITY.name] = self.state.priority
        self._audit(who, "escalated", step, f"priority {self.state.priority}; {text}".strip("; "))
        message = text or (
            f"Case {self.state.case_id} escalated to {self.state.priority} "
            f"({self.state.platform}, @{self.state.author})."
        )
        if target:
            escalation = Step(
                id=step or "escalate",
                kind=StepKind.ESCALATE,
                via=via,
                target=target,
                priority=priority,
            )
            await self._call(
                registry.NOTIFY, self._request(escalation, message), f"escalate: notify {target}"
            )
        self._publish()

    # -- waiting -----------------------------------------------------------------------------
    async def _approval(self, step: Step, draft: str) -> str | None:
        """Wait for a supervisor; the text to use, or None when the step is skipped."""
        approval = step.approval
        assert approval is not None
        now = workflow.now()
        deadline = now + timedelta(seconds=approval.timeout_seconds)
        self.state.pending = PendingApproval(
            step.id,
            step.kind.value,
            draft,
            now.isoformat(),
            deadline.isoformat(),
            approval.approvers,
        )
        self.decision, self.decision_kind = None, ""
        self._status(CaseStatus.AWAITING_APPROVAL)
        self._audit("complaintflow", "approval requested", step.id, draft)
        self._publish()
        try:
            timeout: timedelta | None = timedelta(seconds=approval.timeout_seconds)
            while True:
                try:
                    await workflow.wait_condition(
                        lambda: self.decision is not None or self.closed or self._long(),
                        timeout=timeout,
                        timeout_summary=f"approval of {step.id}",
                    )
                    if self.decision is None and not self.closed:
                        raise _RollOver  # asked again after continuing as new
                    break
                except TimeoutError:
                    outcome = approval.on_timeout
                    self._audit("complaintflow", f"approval timed out: {outcome}", step.id)
                    if outcome == "approve":
                        return draft
                    if outcome == "skip":
                        return None
                    if outcome == "close":
                        self._close("complaintflow", f"no decision on {step.id}")
                        raise _Closed from None
                    await self._escalate(
                        "complaintflow",
                        "high",
                        step.id,
                        text=f"no decision on {step.id} in "
                        f"{format_duration(approval.timeout_seconds)}",
                    )
                    timeout = None  # escalated once; now wait for a decision
            if self.closed:
                raise _Closed
            decided = self.decision
            assert decided is not None
            if self.decision_kind == "reject":
                return None
            return decided.text if self.decision_kind == "edit" else draft
        finally:
            self.state.pending = None
            self._search[search.CASE_AWAITING_APPROVAL.name] = False

    async def _await(self, step: Step) -> None:
        event = step.event or "resolution"
        status = {
            "resolution": CaseStatus.AWAITING_RESOLUTION,
            "contact": CaseStatus.AWAITING_CONTACT,
            "route": CaseStatus.AWAITING_ROUTE,
        }.get(event, CaseStatus.WAITING)
        self._status(status)
        self._publish()

        def done() -> bool:
            if event == "resolution":
                return self.state.resolved
            if event == "contact":
                return self.state.contacted
            if event == "route":
                return self._route_to is not None
            return (step.signal or "") in self.state.events

        timeout = self._timeout(step.timeout_seconds or None)
        try:
            await workflow.wait_condition(
                lambda: done() or self.closed or self._long(),
                timeout=timeout,
                timeout_summary=f"{step.id}: {event}",
            )
            if not done() and not self.closed:
                raise _RollOver  # waits again, for what remains, after continuing as new
        except TimeoutError:
            outcome = step.on_timeout or "continue"
            self._audit("complaintflow", f"{event} did not come: {outcome}", step.id)
            if outcome == "close":
                self._close("complaintflow", f"no {event} in time")
            elif outcome == "escalate":
                await self._escalate(
                    "complaintflow",
                    "high",
                    step.id,
                    text=f"still no {event} on case {self.state.case_id}",
                )
        if self.closed:
            raise _Closed

    async def _await_contact(self, step: Step) -> None:
        self._status(CaseStatus.AWAITING_CONTACT)
        self._publish()
        try:
            await workflow.wait_condition(
                lambda: self.state.contacted or self.closed,
                timeout=timedelta(seconds=step.await_contact_seconds or 0),
                timeout_summary=f"{step.id}: customer contact",
            )
        except TimeoutError:
            outcome = step.on_no_contact or "close"
            self._audit("complaintflow", f"no contact from the customer: {outcome}", step.id)
            if outcome == "close":
                self._close("complaintflow", "the customer did not get in touch")
            elif outcome == "escalate":
                await self._escalate(
                    "complaintflow", "high", step.id, text="the customer did not get in touch"
                )
        if self.closed:
            raise _Closed

    async def _wait_or_close(self, duration: timedelta) -> None:
        try:
            await workflow.wait_condition(lambda: self.closed or self._long(), timeout=duration)
        except TimeoutError:
            return
        if not self.closed:
            raise _RollOver
        raise _Closed

    async def _watch_sla(self, due: datetime) -> None:
        """Escalate when the first public answer is late, then at each further level."""

        def answered() -> bool:
            return bool(self.state.first_response_at) or self.closed

        if not self.state.sla_breached:  # (a case that continued as new may be past this)
            remaining = (due - workflow.now()).total_seconds()
            if remaining > 0:
                try:
                    await workflow.wait_condition(
                        answered,
                        timeout=timedelta(seconds=remaining),
                        timeout_summary="SLA: first public answer",
                    )
                    return
                except TimeoutError:
                    pass
            elif answered():
                return
            self.state.sla_breached = True
            self._audit(
                "complaintflow",
                "SLA breached",
                detail=f"no public answer within "
                f"{format_duration(self.playbook.respond_within_seconds)}",
            )
            if not self.playbook.escalations:
                await self._escalate("complaintflow", "urgent", text="SLA breached")
        levels = self.playbook.escalations
        for number, level in enumerate(levels):
            if number < self._sla_done:
                continue
            wait = (due + timedelta(seconds=level.after_seconds) - workflow.now()).total_seconds()
            if wait > 0:
                try:
                    await workflow.wait_condition(answered, timeout=timedelta(seconds=wait))
                    return
                except TimeoutError:
                    pass
            if answered():
                return
            await self._escalate(
                "complaintflow",
                level.priority or "urgent",
                via=level.via,
                target=level.target,
                text=f"SLA breached on case {self.state.case_id}: no public "
                f"answer yet ({self.state.platform}, "
                f"@{self.state.author}).",
            )
            self._sla_done = number + 1

    # -- supervisor updates ------------------------------------------------------------------
    @workflow.update(
        description="Approve the step waiting for approval. Payload: "
        '{"step": "STEP", "by": "YOUR NAME"}'
    )
    async def approve(self, action: Any) -> str:
        return self._decide("approve", _action(action))

    @approve.validator
    def _check_approve(self, action: Any) -> None:
        self._check_pending(parse_payload(SupervisorAction, action, what="approve"))

    @workflow.update(
        description="Approve with new text. Payload: "
        '{"step": "STEP", "by": "YOUR NAME", "text": "NEW TEXT"}'
    )
    async def edit(self, action: Any) -> str:
        return self._decide("edit", _action(action))

    @edit.validator
    def _check_edit(self, action: Any) -> None:
        parsed = parse_payload(SupervisorAction, action, what="edit")
        self._check_pending(parsed)
        self._check_text(parsed.text)

    @workflow.update(
        description="Reject the step waiting for approval; it is skipped. "
        'Payload: {"step": "STEP", "by": "YOUR NAME", "note": "WHY"}'
    )
    async def reject(self, action: Any) -> str:
        return self._decide("reject", _action(action))

    @reject.validator
    def _check_reject(self, action: Any) -> None:
        self._check_pending(parse_payload(SupervisorAction, action, what="reject"))

    @workflow.update(
        description="Mark the customer's problem resolved. Payload: "
        '{"by": "YOUR NAME", "note": "WHAT WAS DONE"}'
    )
    async def resolve(self, action: Any) -> str:
        self._apply("resolve", _action(action))
        return f"case {self.state.case_id} marked resolved"

    @resolve.validator
    def _check_resolve(self, action: Any) -> None:
        parsed = parse_payload(SupervisorAction, action, what="resolve")
        self._check_open(parsed)
        if self.state.resolved:
            raise Refused("the case is already resolved")

    @workflow.update(
        description="Escalate the case (alert and raise its priority). Payload: "
        '{"by": "YOUR NAME", "priority": "urgent", "note": "WHY"}'
    )
    async def escalate(self, action: Any) -> str:
        parsed = _action(action)
        await self._escalate(parsed.by, parsed.priority or "high", text=parsed.note)
        return f"case {self.state.case_id} escalated to {self.state.priority}"

    @escalate.validator
    def _check_escalate(self, action: Any) -> None:
        parsed = parse_payload(SupervisorAction, action, what="escalate")
        self._check_open(parsed)
        if parsed.priority and parsed.priority not in PRIORITIES:
            raise Refused(f"priority must be one of {', '.join(PRIORITIES)}")

    @workflow.update(description='Close the case now. Payload: {"by": "YOUR NAME", "note": "WHY"}')
    async def close(self, action: Any) -> str:
        self._apply("close", _action(action))
        return f"case {self.state.case_id} closed"

    @close.validator
    def _check_close(self, action: Any) -> None:
        self._check_open(parse_payload(SupervisorAction, action, what="close"))

    @workflow.update(
        description="Route the case to a playbook (a post the policy could not read). "
        'Payload: {"playbook": "standard", "by": "YOUR NAME", "note": "WHY"}'
    )
    async def route(self, action: SupervisorAction) -> str:
        self._route_to = action
        self._audit(
            action.by,
            "routed",
            self.state.current_step,
            f"to playbook {action.playbook}; {action.note}".strip("; "),
        )
        return f"case {self.state.case_id} routed to {action.playbook} by {action.by}"

    @route.validator
    def _check_route(self, action: SupervisorAction) -> None:
        self._check_open(action)
        names = [p.name for p in self.policy.playbooks]
        if action.playbook not in names:
            raise Refused(
                f'unknown playbook {action.playbook!r}: add "playbook": one of {", ".join(names)}'
            )
        if self.state.status is not CaseStatus.AWAITING_ROUTE or self._route_to is not None:
            at = self.state.current_step or "its first step"
            raise Refused(f"the case is not waiting to be routed (it is at {at})")
        if action.playbook == self.playbook.name:
            raise Refused(f"the case is already in playbook {action.playbook}")
        language = self.state.language
        if not replies_in(self.policy, action.playbook, language):
            able = [p for p in playbooks_in(self.policy, language) if p != self.playbook.name]
            raise Refused(
                f"playbook {action.playbook} would reply with texts that have no "
                f"'{language or 'unknown'}' version; "
                + (f"use one of {', '.join(able)}, " if able else "")
                + "or answer by hand and close the case"
            )

    # -- the same as signals, for systems that can only signal -------------------------------
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

    @workflow.signal(
        description="The customer got in touch offline. Payload: "
        '{"channel": "email", "reference": "..."}'
    )
    def customer_contact(self, payload: Any = None) -> None:
        try:
            contact = parse_payload(CustomerContact, payload, what="customer_contact")
        except Refused as problem:
            self._audit("complaintflow", "ignored a customer_contact signal", detail=str(problem))
            return
        self.state.contacted = True
        self._audit(contact.channel, "customer made contact", detail=contact.reference)
        self._publish()

    @workflow.signal(description='A named event a playbook can await. Payload: {"name": "..."}')
    def event(self, payload: Any = None) -> None:
        try:
            received = parse_payload(CaseEvent, payload, what="event")
        except Refused as problem:
            self._audit("complaintflow", "ignored an event signal", detail=str(problem))
            return
        if not received.name:
            self._audit("complaintflow", "ignored an event signal", detail="it has no name")
            return
        events = self.state.events
        awaited = any(s.signal == received.name for s in self.playbook.steps)
        if received.name not in events and (awaited or len(events) < MAX_EVENT_NAMES):
            events.append(received.name)  # each name once; any the playbook awaits
        self._audit(received.by or "complaintflow", "event", detail=received.name)

    @workflow.signal(description="A later post in the complaint's thread (sent by ingest).")
    async def thread_update(self, update: ThreadUpdate) -> None:
        mention = update.mention
        if mention.id[:200] in self.state.mentions or mention.id in self.state.mentions:
            return  # the first mention again (signal-with-start), or a redelivery
        self.state.mentions.append(mention.id[:200])
        if len(self.state.mentions) > MAX_MENTION_IDS:
            del self.state.mentions[1]  # keep the first post and the latest ones
        self.state.mention_count = max(self.state.mention_count, 1) + 1
        same_author = mention.author.handle == self.case.mention.author.handle
        if same_author and is_thanks(mention):
            self.state.thanked = True
            self._audit(mention.author.handle, "customer said thanks", detail=mention.text[:200])
        decision = update.decision
        self._audit(
            mention.author.handle or "customer",
            "new post in the thread",
            detail=f"score {decision.score if decision else '?'}: {mention.text[:120]}",
        )
        if decision is not None and decision.score > self.state.score:
            self.state.score = decision.score
            self._search[search.CASE_SCORE.name] = decision.score
            playbook = self.policy.playbook(decision.playbook) if decision.playbook else None
            if playbook is not None and (
                PRIORITIES.index(playbook.priority) > PRIORITIES.index(self.state.priority)
            ):
                await self._escalate(
                    "complaintflow",
                    playbook.priority,
                    text=f"the thread got worse: {decision.route} (score {decision.score})",
                )
        self._publish()

    @workflow.query(description="The whole case: status, pending approval, audit trail.")
    def state_query(self) -> CaseState:
        return self.state

    # -- handler helpers ---------------------------------------------------------------------
    def _check_open(self, action: SupervisorAction) -> None:
        if not action.by.strip():
            raise Refused('say who you are: add "by": "YOUR NAME" to the payload')
        if self.closed:
            raise Refused(f"case {self.state.case_id} is closed")

    def _check_pending(self, action: SupervisorAction) -> None:
        self._check_open(action)
        pending = self.state.pending
        decided = self._decided.get(action.step)
        if decided and (pending is None or pending.step != action.step or self.decision):
            raise Refused(f"{action.step} was already {decided}")
        if pending is None:
            at = self.state.current_step or "its first step"
            raise Refused(f"nothing is waiting for approval (the case is at {at})")
        if action.step != pending.step:
            raise Refused(
                f'step "{action.step}" is not waiting for approval; '
                f'"{pending.step}" is: send {{"step": "{pending.step}", ...}}'
            )
        if self.decision is not None:  # one decision per step: the first one wins
            raise Refused(
                f"{pending.step} was already {DECIDED[self.decision_kind]} by {self.decision.by}"
            )
        if pending.approvers and action.by not in pending.approvers:
            raise Refused(
                f"{action.by} may not approve {pending.step}; ask {', '.join(pending.approvers)}"
            )

    def _check_text(self, text: str) -> None:
        pending = self.state.pending
        if not text.strip():
            raise Refused('an edit needs the new text: add "text": "..."')
        assert pending is not None
        limits = REPLY_LIMITS if pending.kind == StepKind.REPLY.value else MESSAGE_LIMITS
        limit = limits.get(self.state.platform, 280)
        length = post_length(self.state.platform, text)
        if length > limit:
            raise Refused(f"the text is {length} characters; {self.state.platform} allows {limit}")

    def _decide(self, kind: str, action: SupervisorAction) -> str:
        pending = self.state.pending
        assert pending is not None
        self.decision, self.decision_kind = action, kind
        what = DECIDED[kind]
        self._decided[pending.step] = f"{what} by {_clip(action.by, 100)}"
        self._audit(action.by, what, pending.step, action.text or action.note)
        return f"{pending.step} {what} by {action.by}"

    def _apply(self, kind: str, action: SupervisorAction) -> None:
        if kind == "resolve":
            self.state.resolved = True
            self._audit(action.by, "marked resolved", detail=action.note)
            self._publish()
        elif kind == "close":
            self._close(action.by, action.note or "closed by a supervisor")

    def _signalled(self, kind: str, payload: Any) -> None:
        """Apply a supervisor signal if it would pass the update's validator; else record it."""
        checks = {
            "approve": self._check_approve,
            "edit": self._check_edit,
            "reject": self._check_reject,
            "resolve": self._check_resolve,
            "close": self._check_close,
        }
        pending = self.state.pending
        if (  # a second decision signal on a step: cases that ran before let the last one win
            kind in DECIDED
            and self.decision is not None
            and pending is not None
            and not workflow.patched(ONE_DECISION_PER_STEP)
        ):
            earlier = _action(payload)
            if earlier.by.strip() and earlier.step == pending.step:
                self._decide(kind, earlier)
            return
        try:
            checks[kind](payload)
            action = parse_payload(SupervisorAction, payload, what=kind)
        except ValueError as problem:
            self._audit("complaintflow", f"ignored a {kind} signal", detail=str(problem))
            return
        if kind in ("approve", "edit", "reject"):
            self._decide(kind, action)
        else:
            self._apply(kind, action)

    # -- state, audit, visibility ------------------------------------------------------------
    def _holds(self, step: Step) -> bool:
        program = programs_for(self.policy).steps[(self.playbook.name, step.id)]
        mention = self.case.mention
        if mention.sentiment is None:
            mention = dataclasses.replace(mention, sentiment=0.0)
        if mention.language is None:  # what triage saw; the model is never loaded here
            mention = dataclasses.replace(
                mention,
                language=self.case.decision.language,
                language_confidence=self.case.decision.language_confidence,
            )
        normalised = normalise_text(mention.text)
        values = step_scope(
            self.policy,
            mention,
            normalised,
            signals={s.name: s.held for s in self.case.decision.signals},
            case=self.state,
        )
        if "mention.addressed" in program.source:
            # Cases opened before the brand's handles were bound here read it without them.
            before = mention_scope(self.policy, mention, normalised, handles=False)
            if before["mention.addressed"] != values["mention.addressed"] and not (
                workflow.patched(ADDRESSED_BY_HANDLE)
            ):
                values["mention.addressed"] = before["mention.addressed"]
        with text_in_scope(normalised):
            outcome = program.holds(values)
        if isinstance(outcome, EvalError):
            self._audit(
                "complaintflow", "condition failed (counted as false)", step.id, outcome.message
            )
            return False
        return outcome

    def _draft(self, step: Step) -> str:
        if not step.template:
            return ""
        mention = self.case.mention
        values = {
            "author.name": mention.author.name or mention.author.handle,
            "author.handle": mention.author.handle,
            "customer.tier": mention.customer.tier,
            "channel": mention.platform,
            "mention.id": mention.id,
            "case.id": self.state.case_id,
            "case.ticket_id": self.state.ticket_id,
            "mention.text": mention.text,
            "mention.language": self.state.language or "unknown",
        }
        # The compiler bounded each template's length assuming these maximum lengths; a
        # longer value (a 300-character display name) is cut so the platform takes the post.
        too_long = {k for k, v in values.items() if len(v) > TEMPLATE_VARIABLES.get(k, len(v))}
        if too_long and workflow.patched(CLIP_TEMPLATE_VALUES):
            for key in too_long:
                values[key] = _clip(values[key], TEMPLATE_VARIABLES[key])
        template = self.policy.template(step.template)
        return render_parts(template.parts_for(self.state.language), values)

    def _close(self, who: str, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self.state.closed_reason = reason
        self._status(CaseStatus.CLOSED)
        self._audit(who, "case closed", detail=reason)
        self._publish()

    def _status(self, status: CaseStatus) -> None:
        if self.closed and status is not CaseStatus.CLOSED:
            return
        self.state.status = status
        self._search[search.CASE_STATUS.name] = status.value
        if status is CaseStatus.AWAITING_APPROVAL:
            self._search[search.CASE_AWAITING_APPROVAL.name] = True
        # Published when the case next waits (or closes), so that passing through "open"
        # between two waits costs no upsert.

    def _audit(self, who: str, what: str, step: str = "", detail: str = "") -> None:
        """Add an audit entry; the trail keeps its first entries and the latest ones."""
        audit = self.state.audit
        audit.append(
            AuditEntry(
                workflow.now().isoformat(),
                _clip(who, 100),
                _clip(what, 200),
                _clip(step, 100),
                _clip(detail, MAX_AUDIT_TEXT),
            )
        )
        if len(audit) > MAX_AUDIT:
            del audit[AUDIT_HEAD]
            self.state.audit_dropped += 1

    def _publish(self) -> None:
        """Upsert the search attributes that changed, and refresh the Markdown details."""
        wanted = dict(self._search)
        wanted[search.CASE_SCORE.name] = self.state.score
        wanted[search.CASE_PRIORITY.name] = self.state.priority
        changed = [(k, v) for k, v in wanted.items() if self._published.get(k) != v]
        if changed:
            keys = {k.name: k for k in search.ALL}
            workflow.upsert_search_attributes([keys[k].value_set(v) for k, v in changed])
            self._published.update(changed)
        details = self._markdown()
        if details != self._details:
            self._details = details
            workflow.set_current_details(details)

    def _markdown(self) -> str:
        state = self.state
        lines = [
            f"**Case {_md(state.case_id)}** · {state.platform} · @{_md(state.author)} · "
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
            lines.append(f"Closed: {_md(state.closed_reason)}.")
        elif pending is not None:
            lines += [
                f"### Waiting for approval: `{pending.step}` ({pending.kind})",
                "",
                "Draft:",
                "",
                *(f"> {_md(line)}" for line in pending.draft.splitlines()),
                "",
                f"Decide by {pending.deadline}. In **More Actions → Send an Update**:",
                "",
                f"- `approve`: `{_example(pending.step)}`",
                f"- `edit`: `{_example(pending.step, text='NEW TEXT')}`",
                f"- `reject`: `{_example(pending.step, note='WHY')}`",
            ]
        else:
            waiting = {
                CaseStatus.AWAITING_CONTACT: "the customer to get in touch offline",
                CaseStatus.AWAITING_RESOLUTION: "the problem to be resolved",
                CaseStatus.WAITING: "a timer or an event",
            }.get(state.status)
            if state.status is CaseStatus.AWAITING_ROUTE:
                able = [p for p in playbooks_in(self.policy, state.language) if p != state.playbook]
                lines += [
                    "### Waiting for a person to pick a playbook",
                    "",
                    "The policy cannot read this post. In **More Actions → Send an Update**, "
                    f"`route`: `{_route_example(able[0] if able else 'PLAYBOOK')}`",
                    "",
                    f"Playbooks that can answer in '{state.language or 'unknown'}': "
                    f"{', '.join(able) or 'none'}. Or answer by hand and send `close`: "
                    '`{"by": "YOUR NAME", "note": "WHY"}`.',
                ]
            else:
                if waiting:
                    lines.append(f"Waiting for {waiting} (step `{state.current_step}`).")
                else:
                    lines.append(f"Running step `{state.current_step}`.")
                lines += [
                    "",
                    "When the customer's problem is fixed, send the update `resolve`: "
                    '`{"by": "YOUR NAME", "note": "WHAT WAS DONE"}`',
                ]
        if state.sla_breached:
            lines += ["", f"**SLA breached**: no public answer by {state.sla_due}."]
        return "\n".join(lines)


def _example(step: str, **extra: str) -> str:
    return json.dumps({"step": step, "by": "YOUR NAME", **extra})


def _route_example(playbook: str) -> str:
    return json.dumps({"playbook": playbook, "by": "YOUR NAME"})


def _action(payload: Any) -> SupervisorAction:
    """The action of an update the validator accepted.

    Lenient on purpose: an update recorded before the validator refused unknown fields
    must replay as it ran.
    """
    if isinstance(payload, SupervisorAction):
        return payload
    names = {f.name for f in dataclasses.fields(SupervisorAction)}
    fields = payload if isinstance(payload, dict) else {}
    return SupervisorAction(**{k: str(v) for k, v in fields.items() if k in names})


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~&=:])")


def _md(text: str) -> str:
    """Text shown literally in the Web UI's Markdown: every markup character escaped.

    Handles, names and drafts come from customers; unescaped they could add headings, links
    or remote images to a supervisor's screen.
    """
    return _MARKDOWN.sub(r"\\\1", " ".join(text.split("\n")))


def _clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, marked as cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""The running case: what the workflow, its step runners and its waits share.

One object holds the case's mutable state; its methods are the effects every part uses:
audit, status, close, publish to visibility, call an activity, escalate.
"""

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from complaintflow.rules.caseref import case_ref
    from complaintflow.rules.mention import PRIVATE_KIND
    from complaintflow.rules.model import CompiledPolicy, Playbook, Step, StepKind
    from complaintflow.workflows import registry, search
    from complaintflow.workflows.case import visibility
    from complaintflow.workflows.case.clock import Alarm
    from complaintflow.workflows.messages import (
        OPENED_BY,
        ActionRequest,
        ActionResult,
        AuditEntry,
        CaseInput,
        CaseState,
        CaseStatus,
        SupervisorAction,
    )

if TYPE_CHECKING:
    from complaintflow.workflows.case.labelling import Labelling

PRIORITIES = ("low", "normal", "high", "urgent")
# Bounds on what a case keeps, well under Temporal's 2 MB payload limit for its state query.
MAX_AUDIT = 300  # audit entries kept: the first few and the latest
AUDIT_HEAD = 20
MAX_AUDIT_TEXT = 500  # characters of one entry's who/what/detail
ACTIVITY_TIMEOUT = timedelta(seconds=30)
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)


# Platforms whose private conversations name the customer with another id than their
# comments (Messenger's PSID, Instagram's IGSID): a private reply learns it.
AUTHOR_SCOPED_PLATFORMS = ("facebook", "instagram")


def _instant(text: str) -> datetime | None:
    """An ISO 8601 time with its zone; None for "" or anything else."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, marked as cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def higher(priority: str, than: str) -> bool:
    """Whether `priority` ranks above `than`."""
    return PRIORITIES.index(priority) > PRIORITIES.index(than)


class CaseRun:
    """A case as it runs: its state, where it is in the playbook, what visibility shows."""

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
        route = case.decision.route or ""
        if route.startswith(OPENED_BY):  # the store labelled it as the person opened it
            self.state.labelled = f"a complaint (open by {clip(route[len(OPENED_BY) :], 100)})"
        self.decision: SupervisorAction | None = None
        self.decision_kind = ""
        self.route_to: SupervisorAction | None = None  # a person picked the playbook
        self.decided: dict[str, str] = {}  # step id -> "approved by ann": one decision each
        self.step_index = 0
        self.sla_done = 0  # SLA escalation levels already sent
        self.wait_until: datetime | None = None  # the deadline of the wait in progress
        self.resumed_wait: datetime | None = None
        if case.resume is not None:  # continued as new: the same case, a fresh history
            self.state = case.resume.state
            self.playbook = self.policy.playbook(self.state.playbook)  # routed, perhaps
            self.decided = dict(case.resume.decided)
            self.step_index = case.resume.step_index
            self.sla_done = case.resume.sla_levels_done
            if case.resume.wait_until:
                self.resumed_wait = datetime.fromisoformat(case.resume.wait_until)
        if not self.state.ref:  # cases continued from before references had none
            self.state.ref = case_ref(self.policy.brand.name, case.case_id)
        self.closed = False
        # What visibility holds now; upserts send only what differs (each is a billed action).
        self.published = visibility.initial_search_attributes(case)
        self.search: dict[str, Any] = dict(self.published)
        self.details = ""
        # New cases (versions.FEWER_ACTIONS): one wake-up timer, and search attributes
        # upserted only while the run waits (`parked`), once for all that changed.
        self.frugal = False
        self.alarm = Alarm()
        self.parked = False
        # New cases (versions.STEPS_TOGETHER): steps that go on without waiting share one
        # activity; `approved_ahead` holds approvals given before their step came (by step id).
        self.together = False
        self.labelling: Labelling | None = None  # set by the Labelling of this case
        self.approved_ahead: dict[str, str] = (
            dict(case.resume.approved_ahead) if case.resume is not None else {}
        )

    def economise(self) -> None:
        """Take the cheaper path (a new case): start from what visibility really holds."""
        self.frugal = True
        started = visibility.started_with(workflow.info().typed_search_attributes)
        self.published = started
        self.search = dict(started)

    def close(self, who: str, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self.state.closed_reason = reason
        self.status(CaseStatus.CLOSED)
        self.audit(who, "case closed", detail=reason)
        self.publish()

    def status(self, status: CaseStatus) -> None:
        if self.closed and status is not CaseStatus.CLOSED:
            return
        self.state.status = status
        self.search[search.CASE_STATUS.name] = status.value
        if status is CaseStatus.AWAITING_APPROVAL:
            self.search[search.CASE_AWAITING_APPROVAL.name] = True
        # Published when the case next waits (or closes), so that passing through "open"
        # between two waits costs no upsert.

    def audit(self, who: str, what: str, step: str = "", detail: str = "") -> None:
        """Add an audit entry; the trail keeps its first entries and the latest ones."""
        audit = self.state.audit
        audit.append(
            AuditEntry(
                workflow.now().isoformat(),
                clip(who, 100),
                clip(what, 200),
                clip(step, 100),
                clip(detail, MAX_AUDIT_TEXT),
            )
        )
        if len(audit) > MAX_AUDIT:
            del audit[AUDIT_HEAD]
            self.state.audit_dropped += 1

    def publish(self) -> None:
        """Upsert the search attributes that changed, and refresh the Markdown details.

        On the cheaper path the upsert waits until the run waits (`flush`): each is billed,
        and what a supervisor filters on is what the case waits for.
        """
        if not self.frugal:
            self.flush()
        details = visibility.markdown(self.state, self.policy)
        if details != self.details:
            self.details = details
            workflow.set_current_details(details)

    def unpublished(self) -> list[tuple[str, Any]]:
        """The search attributes whose values visibility does not hold yet."""
        return visibility.search_changes(self.search, self.published, self.state)

    def flush(self) -> None:
        """Upsert every search attribute that changed, in one command."""
        changed = self.unpublished()
        if changed:
            workflow.upsert_search_attributes(visibility.search_updates(changed))
            self.published.update(changed)

    async def publisher(self) -> None:
        """Publish what handlers change while the run waits (the cheaper path).

        It yields once before publishing, so that a run woken by the same handler reaches its
        next wait (or its next activity) first: one upsert for the handler's change and the
        run's.
        """
        while True:
            await workflow.wait_condition(lambda: self.parked and bool(self.unpublished()))
            await asyncio.sleep(0)
            if self.parked:
                self.flush()

    async def call(
        self, activity: str, request: ActionRequest, summary: str
    ) -> ActionResult | None:
        """Run an activity; on failure audit it, escalate (unless escalating) and return None."""
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
            await self.failed(request, str(err.cause or err))
            return None

    async def failed(self, request: ActionRequest, cause: str) -> None:
        """A step's call failed for good: audit it and escalate (unless escalating)."""
        self.audit("complaintflow", "step failed", request.step_id, cause)
        if request.kind != StepKind.ESCALATE.value:
            await self.escalate(
                "complaintflow",
                "high",
                request.step_id,
                text=f"step {request.step_id} failed: {cause}",
            )

    def request(self, step: Step, text: str, **changes: str) -> ActionRequest:
        """What an activity needs to carry out `step` on this case's thread."""
        mention = self.case.mention
        account = self.policy.account(mention.platform)
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
            "account_id": account.id if account else "",
        }
        if mention.private:
            fields["conversation"] = True
            fields["customer_wrote_at"] = self.customer_wrote_at()
        if mention.platform in AUTHOR_SCOPED_PLATFORMS:
            fields["policy"] = self.policy.name
        fields.update(changes)
        return ActionRequest(**fields)

    def customer_wrote_at(self) -> str:
        """When the customer last wrote privately (ISO 8601; "" when unknown): the latest of
        the private complaint and the private messages the case took as contact."""
        times = [self.case.mention.created_at] + [
            c.at for c in self.state.contacts if c.channel == PRIVATE_KIND and c.by == "customer"
        ]
        parsed = [t for t in (_instant(text) for text in times) if t is not None]
        return max(parsed).isoformat() if parsed else ""

    async def escalate(
        self,
        who: str,
        priority: str,
        step: str = "",
        *,
        via: str = "",
        target: str = "",
        text: str = "",
    ) -> None:
        """Raise the priority, audit it and, when there is a target, notify it."""
        if higher(priority, self.state.priority):
            self.state.priority = priority
        self.state.escalated = True
        self.search[search.CASE_PRIORITY.name] = self.state.priority
        self.audit(who, "escalated", step, f"priority {self.state.priority}; {text}".strip("; "))
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
            await self.call(
                registry.NOTIFY, self.request(escalation, message), f"escalate: notify {target}"
            )
        self.publish()

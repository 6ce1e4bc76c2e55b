"""What a case costs on Temporal Cloud: one wake-up timer, one upsert per wait, and the Web UI's
filters still right at every wait (docs.temporal.io/cloud/actions: each timer and each upsert
is a billed action; attributes set at start are free)."""

from __future__ import annotations

from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.testing import WorkflowEnvironment

from complaintflow.workflows import search
from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.case.cost import billed_actions
from complaintflow.workflows.messages import CaseStatus, CustomerContact, SupervisorAction
from tests.support.cases import (
    ME,
    Handle,
    approve,
    complaint,
    finish,
    open_,
    pending,
    send_update,
    to_resolve,
    until,
)
from tests.support.platform import Platform


async def filters(handle: Handle) -> tuple[str | None, bool | None]:
    """What the Web UI filters a case by: its status and whether it awaits an approval."""
    found = (await handle.describe()).typed_search_attributes
    return found.get(search.CASE_STATUS), found.get(search.CASE_AWAITING_APPROVAL)


class TestCost:
    async def test_the_approved_path_starts_one_timer_and_upserts_once_per_wait(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        """Every wait shows in the filters; a timer and an upsert each cost an action."""
        posted = (await env.get_current_time()).isoformat()  # platforms say when
        reply = complaint(id="9101", thread_id="cost-1", created_at=posted)  # hideable
        async with platform.worker(env.client, queue):
            handle = await open_(env, queue, reply)
            await until(handle, pending("reply_acknowledge"))
            assert await filters(handle) == ("awaiting_approval", True)
            await approve(handle, "reply_acknowledge")
            await until(handle, lambda s: s.status is CaseStatus.AWAITING_CONTACT)
            assert await filters(handle) == ("awaiting_contact", False)
            await handle.signal(CaseWorkflow.customer_contact, CustomerContact(channel="email"))
            await until(handle, lambda s: s.status is CaseStatus.AWAITING_RESOLUTION)
            assert await filters(handle) == ("awaiting_resolution", False)
            await send_update(handle, CaseWorkflow.resolve, SupervisorAction(by=ME))
            await until(handle, pending("remove_public_hide"))
            assert await filters(handle) == ("awaiting_approval", True)
            await approve(handle, "remove_public_hide")
            final = await finish(env, handle)
            assert await filters(handle) == ("closed", False)
            history = await handle.fetch_history()
        billed = billed_actions(history)
        started = history.events[0].workflow_execution_started_event_attributes
        assert started.search_attributes.indexed_fields["CaseAwaitingApproval"].data == b"true", (
            "the case was listed as awaiting approval from its start (a free attribute)"
        )
        assert final.status is CaseStatus.CLOSED and final.closed_reason == "resolved"
        assert billed["timer"] == 1, "the SLA and the approvals share one wake-up timer"
        # awaiting contact, awaiting resolution, awaiting the removal's approval, closed: the
        # first approval was set when the case started (free)
        assert billed["search attribute upsert"] == 4

    async def test_a_later_deadline_ends_its_wait_after_an_earlier_timer_rang(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        """The timer armed for the approval (2h) rings with nothing due; the contact wait
        (72h) still ends on time, on the timer armed next."""
        async with platform.worker(env.client, queue):
            handle = await open_(env, queue, complaint(id="9103", thread_id="cost-3"))
            await until(handle, pending("reply_acknowledge"))
            await approve(handle, "reply_acknowledge")
            await until(handle, lambda s: s.status is CaseStatus.AWAITING_CONTACT)
            final = await finish(env, handle)  # time skips while the result is awaited
            billed = billed_actions(await handle.fetch_history())
        assert final.closed_reason == "the customer did not get in touch"
        assert billed["timer"] == 2

    async def test_resolving_with_the_removal_approved_costs_twelve_actions(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        """The supervisor who resolves approves the removal too: the case never asks for it, and
        the standard approved path costs 12 billed actions with every wait in the filters."""
        posted = (await env.get_current_time()).isoformat()
        reply = complaint(id="9104", thread_id="cost-ahead", created_at=posted)
        async with platform.worker(env.client, queue):
            handle = await to_resolve(env, queue, reply)  # filters as in the test above
            assert await filters(handle) == ("awaiting_resolution", False)
            metadata = await handle.query(
                "__temporal_workflow_metadata", result_type=WorkflowMetadata
            )
            assert (  # what the Web UI shows a supervisor on the case's page
                'approve them with the resolution and the case goes on without asking: `{"by": '
                '"YOUR NAME", "note": "...", "approve": "remove_public_hide"}`'
            ) in metadata.current_details
            answer = await send_update(
                handle, CaseWorkflow.resolve, SupervisorAction(by=ME, approve="remove_public_hide")
            )
            final = await finish(env, handle)
            assert await filters(handle) == ("closed", False)
            billed = billed_actions(await handle.fetch_history())
        assert "marked resolved" in answer
        assert final.closed_reason == "resolved"
        assert not any(
            e.what == "approval requested" and e.step == "remove_public_hide" for e in final.audit
        ), "never asked"
        ahead = [e for e in final.audit if e.step == "remove_public_hide" and e.what == "approved"]
        assert [(e.who, e.detail) for e in ahead] == [(ME, "in advance, with the resolution")]
        assert any(e.what == "remove_public done" for e in final.audit)
        assert sum(billed.values()) == 12, billed
        assert billed["update"] == 2 and billed["activity attempt"] == 4
        assert billed["search attribute upsert"] == 3  # contact, resolution, closed

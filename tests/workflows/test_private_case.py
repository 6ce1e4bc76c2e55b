"""A case opened by a private message runs its playbook in that conversation: its reply and
its handoff's offer are messages to the customer (with when they last wrote, for the
platform's messaging window), the handoff is offline already (the complaint is the contact,
nothing is waited for), and the hide step has nothing public to remove."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from complaintflow.workflows import registry
from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.messages import CaseStatus, SupervisorAction
from tests.support.cases import (
    DM,
    ME,
    approve,
    complaint,
    finish,
    open_,
    pending,
    send_update,
    until,
)
from tests.support.platform import Platform

WROTE = "2026-12-03T09:00:00+00:00"


async def test_a_private_complaint_is_answered_in_its_conversation(
    env: WorkflowEnvironment, platform: Platform, queue: str
) -> None:
    mention = complaint(
        id="9501",
        kind="dm",
        thread_id="77",  # the conversation: the sender
        text="I want a refund for order 4411",
        created_at=WROTE,
    )
    async with platform.worker(env.client, queue):
        handle = await open_(env, queue, mention)
        assert handle.id == "case-x-77@cases"
        await until(handle, pending("reply_acknowledge"))
        await approve(handle, "reply_acknowledge")
        reached = await until(handle, lambda s: s.status is CaseStatus.AWAITING_RESOLUTION)
        await send_update(handle, CaseWorkflow.resolve, SupervisorAction(by=ME, note="done"))
        final = await finish(env, handle)
    replies = platform.of(registry.POST_REPLY)  # the acknowledgement, the follow-up
    [offer] = platform.of(DM)
    assert len(replies) == 2
    for request in (*replies, offer):
        assert request.conversation and request.customer_wrote_at == WROTE
        assert request.author_id == "77"
    assert platform.of(registry.REMOVE_POST) == [] and platform.of(registry.ARCHIVE_POST) == []
    assert reached.contacted and [(c.channel, c.by) for c in reached.contacts] == [
        ("dm", "customer")
    ]
    whats = [(e.what, e.detail) for e in final.audit]
    assert (
        "already offline",
        "the customer wrote privately: the conversation is their contact",
    ) in whats
    assert (
        "removal refused",
        "the complaint was a private message: there is nothing public to remove",
    ) in whats
    assert final.closed_reason == "resolved"
    assert not any(
        e.what == "approval requested" and e.step.startswith("remove") for e in final.audit
    )

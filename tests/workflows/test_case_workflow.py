"""CaseWorkflow on the time-skipping test server: every path a supervisor or customer can take."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from complaintflow import compile_policy
from complaintflow.client.cases import case_key, open_case, thread_post
from complaintflow.rules.mention import Author
from complaintflow.rules.triage import Triage
from complaintflow.workflows import registry
from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.messages import (
    CaseStatus,
    CustomerContact,
    SupervisorAction,
    ThreadUpdate,
)
from tests.support.cases import (
    DM,
    ME,
    REPLY,
    STANDARD_CALLS,
    approve,
    complaint,
    finish,
    open_,
    pending,
    send_update,
    until,
)
from tests.support.platform import Platform
from tests.support.policies import CASES_POLICY as POLICY


class TestHappyPath:
    async def test_approved_reply_handoff_resolution_and_removal(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        reply = complaint(thread_id="b-100")  # a reply in a conversation the brand started
        async with platform.worker(env.client, queue):
            handle = await open_(env, queue, reply)
            assert handle.id == case_key(reply, "cases") == "case-x-b-100@cases"
            waiting = await until(handle, pending("reply_acknowledge"))
            assert waiting.status is CaseStatus.AWAITING_APPROVAL
            assert waiting.pending is not None
            assert waiting.pending.draft == ("Sorry to hear this, Jo. Please check your messages.")
            assert platform.names() == ["notify"]
            assert await approve(handle, "reply_acknowledge") == (
                "reply_acknowledge approved by dana"
            )
            await until(handle, lambda s: s.status is CaseStatus.AWAITING_CONTACT)
            await handle.signal(
                CaseWorkflow.customer_contact, CustomerContact(channel="email", reference="msg-1")
            )
            await until(handle, lambda s: s.status is CaseStatus.AWAITING_RESOLUTION)
            await send_update(
                handle, CaseWorkflow.resolve, SupervisorAction(by=ME, note="refund sent")
            )
            await until(handle, pending("remove_public_hide"))
            await approve(handle, "remove_public_hide")
            final = await finish(env, handle)
        assert platform.names() == STANDARD_CALLS
        first_reply, dm = platform.of(REPLY)[0], platform.of(DM)[0]
        assert (first_reply.platform, first_reply.thread_id) == ("x", "b-100")
        assert dm.text == "Please email care@acme.example and quote case-x-b-100@cases."
        assert platform.of(REPLY)[1].text == "Glad we could sort this out, Jo."
        assert final.status is CaseStatus.CLOSED and final.closed_reason == "resolved"
        assert final.resolved and final.contacted and final.ticket_id.startswith("open_ticket")
        assert not final.sla_breached and final.first_response_at
        decisions = [(e.who, e.what, e.step) for e in final.audit if e.who == ME]
        assert decisions == [
            (ME, "approved", "reply_acknowledge"),
            (ME, "marked resolved", ""),
            (ME, "approved", "remove_public_hide"),
        ]

    async def test_edited_reply_posts_the_new_text(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        async with platform.worker(env.client, queue):
            handle = await open_(env, queue, complaint(id="9002", thread_id="9002"))
            await until(handle, pending("reply_acknowledge"))
            await send_update(
                handle,
                CaseWorkflow.edit,
                SupervisorAction(
                    step="reply_acknowledge", by=ME, text="Jo, so sorry! DM us please."
                ),
            )
            await until(handle, lambda s: s.status is CaseStatus.AWAITING_CONTACT)
            await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME, note="dup"))
            final = await finish(env, handle)
        assert [r.text for r in platform.of(REPLY)] == ["Jo, so sorry! DM us please."]
        assert final.closed_reason == "dup"

    async def test_rejected_reply_is_not_posted(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        async with platform.worker(env.client, queue):
            handle = await open_(env, queue, complaint(id="9003", thread_id="9003"))
            await until(handle, pending("reply_acknowledge"))
            await send_update(
                handle,
                CaseWorkflow.reject,
                SupervisorAction(step="reply_acknowledge", by=ME, note="troll"),
            )
            await until(handle, lambda s: s.status is CaseStatus.AWAITING_CONTACT)
            await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME))
            final = await finish(env, handle)
        assert platform.of(REPLY) == []
        assert platform.names() == ["notify", "send_private_message"]
        assert (ME, "rejected") in [(e.who, e.what) for e in final.audit]


class TestSameAnswers:
    async def test_a_step_reads_addressed_as_triage_does(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        """`@AcmeCares ...` is addressed to the brand in triage and in a step's `when:` alike."""
        step = '- notify: {via: slack, target: "#care", template: alert}'
        assert step in POLICY
        policy = POLICY.replace(step, step[:-1] + ', when: "mention.addressed"}')
        mention = complaint(id="addr-1", thread_id="addr-1")
        assert not mention.addressed and mention.text.startswith("@AcmeCares")
        triaged = Triage(compile_policy(policy)).values(mention)[0]
        assert triaged["mention.addressed"] is True
        async with platform.worker(env.client, queue):
            handle = await open_(env, queue, mention, policy)
            await until(handle, pending("reply_acknowledge"))
            await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME))
            final = await finish(env, handle)
        assert platform.names() == ["notify"], "the step ran: the workflow agrees with triage"
        assert final.status is CaseStatus.CLOSED


class TestTimeouts:
    @pytest.mark.parametrize(
        ("on_timeout", "replies", "reason"),
        [
            ("skip", 0, "the customer did not get in touch"),
            ("approve", 1, "the customer did not get in touch"),
            ("close", 0, "no decision on reply_acknowledge"),
        ],
    )
    async def test_approval_timeout_follows_the_policy(
        self,
        env: WorkflowEnvironment,
        platform: Platform,
        queue: str,
        on_timeout: str,
        replies: int,
        reason: str,
    ) -> None:
        policy = POLICY.replace(
            "timeout: 2h, on_timeout: escalate", f"timeout: 2h, on_timeout: {on_timeout}"
        )
        async with platform.worker(env.client, queue):
            handle = await open_(
                env, queue, complaint(id=f"t-{on_timeout}", thread_id=f"t-{on_timeout}"), policy
            )
            final = await finish(env, handle)
        assert len(platform.of(REPLY)) == replies
        assert final.closed_reason == reason
        assert f"approval timed out: {on_timeout}" in [e.what for e in final.audit]

    async def test_approval_timeout_escalates_then_keeps_waiting(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        async with platform.worker(env.client, queue):
            handle = await open_(env, queue, complaint(id="t-esc", thread_id="t-esc"))
            await until(handle, pending("reply_acknowledge"))
            await env.sleep(timedelta(hours=3))
            waiting = await until(handle, lambda s: s.escalated)
            assert waiting.pending is not None and waiting.priority == "high"
            await approve(handle, "reply_acknowledge")
            await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME))
            final = await finish(env, handle)
        assert len(platform.of(REPLY)) == 1
        assert "approval timed out: escalate" in [e.what for e in final.audit]

    async def test_sla_breach_escalates_to_the_leads(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        policy = POLICY.replace(
            "timeout: 2h, on_timeout: escalate", "timeout: 48h, on_timeout: skip"
        )
        async with platform.worker(env.client, queue):
            handle = await open_(env, queue, complaint(id="t-sla", thread_id="t-sla"), policy)
            final = await finish(env, handle)
        assert final.sla_breached
        assert "SLA breached" in [e.what for e in final.audit]
        alerts = [r for r in platform.of(registry.NOTIFY) if r.target == "#leads"]
        assert len(alerts) == 1 and "SLA breached on case case-x-t-sla@cases" in alerts[0].text
        assert final.priority == "high"

    async def test_customer_never_makes_contact(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        async with platform.worker(env.client, queue):
            handle = await open_(env, queue, complaint(id="t-vent", thread_id="t-vent"))
            await until(handle, pending("reply_acknowledge"))
            await approve(handle, "reply_acknowledge")
            final = await finish(env, handle)
        assert final.closed_reason == "the customer did not get in touch"
        assert "open_ticket" not in platform.names()


class TestGuards:
    async def test_removal_refused_on_a_channel_the_brand_does_not_own(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        mention = complaint(id="ig-1", thread_id="ig-1", platform="instagram")
        async with platform.worker(env.client, queue):
            handle = await open_(env, queue, mention)
            await until(handle, pending("reply_acknowledge"))
            await approve(handle, "reply_acknowledge")
            await until(handle, lambda s: s.status is CaseStatus.AWAITING_CONTACT)
            await handle.signal(CaseWorkflow.customer_contact, CustomerContact())
            await until(handle, lambda s: s.status is CaseStatus.AWAITING_RESOLUTION)
            await send_update(handle, CaseWorkflow.resolve, SupervisorAction(by=ME))
            final = await finish(env, handle)
        assert "remove_post" not in platform.names() and "archive_post" not in platform.names()
        refusals = [e.detail for e in final.audit if e.what == "removal refused"]
        assert refusals == ["the brand does not own a instagram channel where it may hide"]
        asked = [e.step for e in final.audit if e.what == "approval requested"]
        assert "remove_public_hide" not in asked, "no supervisor is asked for what cannot happen"

    async def test_failed_activity_escalates_instead_of_failing_the_case(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        platform.failing.add(registry.SEND_PRIVATE_MESSAGE)
        async with platform.worker(env.client, queue):
            handle = await open_(env, queue, complaint(id="f-1", thread_id="f-1"))
            await until(handle, pending("reply_acknowledge"))
            await approve(handle, "reply_acknowledge")
            await until(handle, lambda s: s.escalated)
            await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME))
            final = await finish(env, handle)
        failed = [e for e in final.audit if e.what == "step failed"]
        assert failed and "403 Forbidden" in failed[0].detail


class TestThread:
    async def test_thread_update_raises_severity(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        policy = compile_policy(POLICY)
        async with platform.worker(env.client, queue):
            handle = await open_(env, queue, complaint(id="th-1", thread_id="th-1"))
            await until(handle, pending("reply_acknowledge"))
            louder = complaint(
                id="th-2",
                thread_id="th-1",
                author=Author(id="88", handle="bigvoice", followers=90_000),
            )
            decision = Triage(policy).decide(louder)
            assert decision.playbook == "urgent"
            again = await open_case(
                env.client, mention=louder, decision=decision, policy=policy, task_queue=queue
            )
            assert again.id == handle.id
            raised = await until(handle, lambda s: s.priority == "urgent")
            assert raised.score == 1.0 and raised.mentions == ["th-1", "th-2"] and raised.escalated
            await handle.signal(CaseWorkflow.thread_update, ThreadUpdate(louder, decision))
            await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME))
            final = await finish(env, handle)
        assert final.mentions == ["th-1", "th-2"], "a redelivered post is counted once"

    async def test_customer_thanks_are_recorded(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        async with platform.worker(env.client, queue):
            handle = await open_(env, queue, complaint(id="ty-1", thread_id="ty-1"))
            await until(handle, pending("reply_acknowledge"))
            thanks = complaint(
                id="ty-2", thread_id="ty-1", text="@AcmeCares thanks, all sorted now! great service"
            )
            await handle.signal(CaseWorkflow.thread_update, thread_post(thanks, None))
            thanked = await until(handle, lambda s: s.thanked)
            assert "customer said thanks" in [e.what for e in thanked.audit]
            await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME))
            await finish(env, handle)


class TestBadInput:
    async def test_bad_signal_payloads_never_wedge_the_case(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        async with platform.worker(env.client, queue):
            handle = await open_(env, queue, complaint(id="b-1", thread_id="b-1"))
            await until(handle, pending("reply_acknowledge"))
            for payload in (
                "garbage",
                None,
                42,
                {"step": "reply_acknowledge"},
                {"step": "nope", "by": ME},
                {"by": ["x"]},
            ):
                await handle.signal("approve_signal", payload)
            await handle.signal("customer_contact", "not an object")
            ignored = await until(
                handle, lambda s: sum(e.what.startswith("ignored") for e in s.audit) == 7
            )
            assert ignored.pending is not None
            await handle.signal("approve_signal", {"step": "reply_acknowledge", "by": ME})
            await until(handle, lambda s: s.status is CaseStatus.AWAITING_CONTACT)
            await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME))
            await finish(env, handle)
        assert len(platform.of(REPLY)) == 1

    @pytest.mark.parametrize(
        ("update", "action", "message"),
        [
            (
                "approve",
                SupervisorAction(step="reply_acknowledge"),
                'say who you are: add "by": "YOUR NAME" to the payload',
            ),
            (
                "approve",
                SupervisorAction(step="reply_ack", by=ME),
                'step "reply_ack" is not waiting for approval; "reply_acknowledge" is: '
                'send {"step": "reply_acknowledge", ...}',
            ),
            (
                "edit",
                SupervisorAction(step="reply_acknowledge", by=ME, text="x" * 281),
                "the text is 281 characters; x allows 280",
            ),
            (
                "edit",
                SupervisorAction(step="reply_acknowledge", by=ME),
                'an edit needs the new text: add "text": "..."',
            ),
            (
                "escalate",
                SupervisorAction(by=ME, priority="asap"),
                "priority must be one of low, normal, high, urgent",
            ),
        ],
    )
    async def test_rejected_updates_say_why_and_leave_no_trace(
        self,
        env: WorkflowEnvironment,
        platform: Platform,
        queue: str,
        update: str,
        action: SupervisorAction,
        message: str,
    ) -> None:
        async with platform.worker(env.client, queue):
            handle = await open_(
                env,
                queue,
                complaint(id=f"u-{update}-{len(message)}", thread_id=f"u-{update}-{len(message)}"),
            )
            await until(handle, pending("reply_acknowledge"))
            with pytest.raises(WorkflowUpdateFailedError) as failed:
                await send_update(handle, update, action)
            assert getattr(failed.value.cause, "message", None) == message
            history = await handle.fetch_history()
            kinds = {EventType.Name(e.event_type) for e in history.events}
            assert not {k for k in kinds if "UPDATE" in k}, "a rejected update leaves no trace"
            await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME))
            await finish(env, handle)

    async def test_approving_when_nothing_is_pending(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        async with platform.worker(env.client, queue):
            handle = await open_(env, queue, complaint(id="n-1", thread_id="n-1"))
            await until(handle, pending("reply_acknowledge"))
            await approve(handle, "reply_acknowledge")
            await until(handle, lambda s: s.status is CaseStatus.AWAITING_CONTACT)
            with pytest.raises(WorkflowUpdateFailedError) as failed:
                await approve(handle, "reply_acknowledge")
            assert getattr(failed.value.cause, "message", None) == (
                "reply_acknowledge was already approved by dana"
            )
            await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME))
            await finish(env, handle)

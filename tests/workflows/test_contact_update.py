"""The customer's contact reaches the case: a call a supervisor records (`contact` update and
its signal twin), a message ingest or a helpdesk signals (`customer_contact` with its text and
time), and the case's short reference a customer can quote."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from complaintflow import compile_policy
from complaintflow.caseref import case_ref, refs_in
from complaintflow.errors import ComplaintflowError
from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.messages import (
    CaseStatus,
    ContactAction,
    CustomerContact,
    SupervisorAction,
)
from tests.support.cases import (
    DM,
    ME,
    Handle,
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

AWAITING_CONTACT = CaseStatus.AWAITING_CONTACT


async def _at_handoff(env: WorkflowEnvironment, queue: str, key: str) -> Handle:
    handle = await open_(env, queue, complaint(id=key, thread_id=key))
    await until(handle, pending("reply_acknowledge"))
    await approve(handle, "reply_acknowledge")
    await until(handle, lambda s: s.status is AWAITING_CONTACT)
    return handle


class TestContactUpdate:
    async def test_a_recorded_call_ends_the_handoff_as_contacted(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        async with platform.worker(env.client, queue):
            handle = await _at_handoff(env, queue, "c-1")
            said = await send_update(
                handle,
                CaseWorkflow.contact,
                ContactAction(by=ME, channel="phone", note="called, refund agreed"),
            )
            assert said == "case case-x-c-1@cases: contact by phone recorded by dana"
            reached = await until(
                handle,
                lambda s: s.status is CaseStatus.AWAITING_RESOLUTION,
            )
            await send_update(
                handle,
                CaseWorkflow.close,
                SupervisorAction(by=ME, note="done"),
            )
            final = await finish(env, handle)
        assert reached.contacted
        [contact] = final.contacts
        assert (contact.channel, contact.by, contact.text) == ("phone", ME, "called, refund agreed")
        assert contact.at
        assert any(e.what == "recorded the customer's contact" for e in final.audit)

    @pytest.mark.parametrize(
        ("payload", "reason"),
        [
            ({"channel": "phone"}, "say who you are"),
            ({"by": ME, "channel": "pigeon"}, "unknown channel 'pigeon'"),
            ({"by": ME, "channel": "phone", "mood": "x"}, "unknown field 'mood'"),
            ({"by": ME, "channel": "phone", "note": "n" * 2_001}, "at most 2000"),
            ({"by": ME, "channel": 7}, '"channel" must be text'),
        ],
    )
    async def test_a_bad_contact_is_refused_with_the_reason_and_its_signal_ignored(
        self,
        env: WorkflowEnvironment,
        platform: Platform,
        queue: str,
        payload: dict[str, object],
        reason: str,
    ) -> None:
        async with platform.worker(env.client, queue):
            handle = await _at_handoff(
                env, queue, "c-bad-" + "".join(c for c in reason if c.isalnum())[:20]
            )
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await send_update(handle, "contact", payload)
            assert reason in str(refused.value.cause)
            await handle.signal("contact_signal", payload)
            seen = await until(
                handle,
                lambda s: any(e.what == "ignored a contact signal" for e in s.audit),
            )
            assert not seen.contacted and seen.status is AWAITING_CONTACT
            [ignored] = [e for e in seen.audit if e.what == "ignored a contact signal"]
            assert reason in ignored.detail
            await send_update(
                handle,
                CaseWorkflow.close,
                SupervisorAction(by=ME, note="test over"),
            )

    async def test_the_signal_twin_records_the_same_contact(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        async with platform.worker(env.client, queue):
            handle = await _at_handoff(env, queue, "c-2")
            await handle.signal(
                CaseWorkflow.contact_signal,
                ContactAction(by=ME, channel="email", note="wrote to care@"),
            )
            seen = await until(handle, lambda s: s.contacted)
            await send_update(
                handle,
                CaseWorkflow.close,
                SupervisorAction(by=ME, note="done"),
            )
        assert [(c.channel, c.by, c.text) for c in seen.contacts] == [
            ("email", ME, "wrote to care@")
        ]


class TestCustomerContactSignal:
    async def test_the_message_its_channel_and_time_are_kept_bounded(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        async with platform.worker(env.client, queue):
            handle = await _at_handoff(env, queue, "c-3")
            await handle.signal(
                CaseWorkflow.customer_contact,
                CustomerContact(
                    channel="dm",
                    reference="dm-55",
                    text="hi, it's about the kettle " + "x" * 5_000,
                    at="2026-03-01T10:00:00Z",
                ),
            )
            seen = await until(handle, lambda s: s.contacted)
            await send_update(
                handle,
                CaseWorkflow.close,
                SupervisorAction(by=ME, note="done"),
            )
        [contact] = seen.contacts
        assert (contact.channel, contact.by, contact.at) == (
            "dm",
            "customer",
            "2026-03-01T10:00:00+00:00",
        )
        assert contact.text.startswith("hi, it's about the kettle") and len(contact.text) == 1_000
        [made] = [e for e in seen.audit if e.what == "customer made contact"]
        assert made.who == "dm" and made.detail.startswith("dm-55; hi, it's about")

    async def test_a_contact_with_a_bad_time_is_ignored_with_the_reason(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        async with platform.worker(env.client, queue):
            handle = await _at_handoff(env, queue, "c-4")
            await handle.signal("customer_contact", {"channel": "dm", "at": "yesterday"})
            seen = await until(
                handle,
                lambda s: any(e.what == "ignored a customer_contact signal" for e in s.audit),
            )
            await send_update(
                handle,
                CaseWorkflow.close,
                SupervisorAction(by=ME, note="done"),
            )
        assert not seen.contacted and seen.contacts == []
        [ignored] = [e for e in seen.audit if e.what == "ignored a customer_contact signal"]
        assert ignored.detail.endswith("\"at\" is not an ISO 8601 time: 'yesterday'")


class TestCaseReference:
    async def test_a_template_can_carry_the_reference(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        policy = POLICY.replace("quote {case.id}", "quote {case.ref}")
        assert policy != POLICY
        async with platform.worker(env.client, queue):
            handle = await open_(env, queue, complaint(id="c-5", thread_id="c-5"), policy)
            await until(handle, pending("reply_acknowledge"))
            await approve(handle, "reply_acknowledge")
            seen = await until(handle, lambda s: s.status is AWAITING_CONTACT)
            await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME, note="done"))
        ref = case_ref("Acme", "case-x-c-5@cases")
        assert seen.ref == ref and ref.startswith("A-") and len(ref) == 8
        assert platform.of(DM)[0].text == f"Please email care@acme.example and quote {ref}."

    def test_an_unknown_variable_next_to_it_is_still_refused(self) -> None:
        bad = POLICY.replace("quote {case.id}", "quote {case.reff}")
        with pytest.raises(ComplaintflowError, match=r"case\.reff"):
            compile_policy(bad)

    @given(st.text(min_size=1, max_size=60))
    def test_a_quoted_reference_is_found_in_any_text_around_it(self, case_id: str) -> None:
        ref = case_ref("Northwind Air", case_id)
        assert ref.startswith("NA-") and len(ref) == 9
        assert refs_in(f"hello, re {ref.lower()}: still waiting", "Northwind Air") == [ref]
        assert refs_in(f"ref {ref}", "Other Brand") == []


def test_references_rarely_collide_among_a_brands_open_cases() -> None:
    refs = {case_ref("Acme", f"case-x-{n}@acme") for n in range(20_000)}
    assert len(refs) >= 19_990  # six base32 characters: ~10^9 codes

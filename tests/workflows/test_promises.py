"""A case answers whatever reaches it: a decision from a newer or another brand's policy, a
huge post, customer markup in what the Web UI shows. (The README's promises I2, I5, I7.)"""

from __future__ import annotations

import re
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from complaintflow import compile_policy
from complaintflow.client.cases import thread_post
from complaintflow.rules.mention import Author
from complaintflow.rules.triage import Triage
from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.messages import (
    MAX_THREAD_TEXT,
    CaseStatus,
    SupervisorAction,
    ThreadUpdate,
)
from tests.support.cases import ME, Handle, complaint, finish, open_, pending, send_update, until
from tests.support.platform import Platform
from tests.support.policies import CASES_POLICY

STEP = "reply_acknowledge"
# The same policy after a routine edit: a playbook renamed, the version raised.
RENAMED = (
    CASES_POLICY.replace("version: 1", "version: 2")
    .replace("playbook: urgent", "playbook: urgent_b")
    .replace("  urgent:", "  urgent_b:")
)
# Another brand's policy in the same deployment.
OTHER_BRAND = (
    CASES_POLICY.replace("policy: cases", "policy: globex")
    .replace("playbook: urgent", "playbook: globex_urgent")
    .replace("  urgent:", "  globex_urgent:")
)


async def failed_tasks(handle: Handle) -> list[str]:
    history = await handle.fetch_history()
    return [
        str(e.workflow_task_failed_event_attributes.failure.message)
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
    ]


class TestDecisionsFromAnotherPolicy:
    @pytest.mark.parametrize("policy_text", [RENAMED, OTHER_BRAND], ids=["renamed", "other-brand"])
    async def test_a_decision_naming_a_playbook_the_case_lacks_is_noted_and_the_case_goes_on(
        self, env: WorkflowEnvironment, platform: Platform, queue: str, policy_text: str
    ) -> None:
        """A later post triaged by a policy whose playbooks the case's pinned policy does not
        have: the case records it, keeps its own playbook, answers and closes."""
        thread = f"pin-{policy_text == RENAMED}"
        async with platform.worker(env.client, queue):
            handle = await open_(env, queue, complaint(id=thread, thread_id=thread))
            await until(handle, pending(STEP))
            loud = Author(id="78", handle="jo", name="Jo", followers=50_000)
            worse = complaint(id=f"{thread}-2", thread_id=thread, author=loud)
            decision = Triage(compile_policy(policy_text)).decide(worse)
            assert (decision.playbook is not None and decision.playbook.endswith("urgent_b")) or (
                decision.playbook == "globex_urgent"
            )
            await handle.signal(CaseWorkflow.thread_update, thread_post(worse, decision))
            current = await until(handle, lambda s: s.mention_count == 2)
            assert current.playbook == "standard" and current.score == decision.score
            noted = [e.detail for e in current.audit if e.what == "ignored a decision's playbook"]
            assert noted == [
                f"{decision.playbook} is not a playbook of {current.policy}; the case keeps its own"
            ]
            assert await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME))
            final = await finish(env, handle)
        assert final.status is CaseStatus.CLOSED
        assert await failed_tasks(handle) == []

    async def test_a_reloaded_policy_with_a_renamed_playbook_reaches_an_open_case(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        """The way ingest sends it: the follow-up opens (signals) the case under the edited
        policy, whose decision names the renamed playbook."""
        async with platform.worker(env.client, queue):
            handle = await open_(env, queue, complaint(id="rn-1", thread_id="rn-1"))
            await until(handle, pending(STEP))
            loud = Author(id="78", handle="jo", name="Jo", followers=50_000)
            again = await open_(
                env, queue, complaint(id="rn-2", thread_id="rn-1", author=loud), RENAMED
            )
            assert again.id == handle.id
            current = await until(handle, lambda s: s.mention_count == 2)
            assert "ignored a decision's playbook" in [e.what for e in current.audit]
            await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME))
            await finish(env, handle)
        assert await failed_tasks(handle) == []


class TestBoundedPosts:
    async def test_a_post_reaches_its_case_bounded_with_what_ingest_read_of_it(self) -> None:
        """However long a post, its case gets a bounded text and whether it thanks the brand,
        read where it arrived."""
        huge = complaint(text="thanks, all sorted now " + "x" * 250_000, sentiment=0.6)
        post = thread_post(huge, None)
        assert len(post.mention.text) == MAX_THREAD_TEXT and post.thanks is True
        assert thread_post(complaint(text="still broken"), None).thanks is False

    async def test_the_case_takes_thanks_from_ingest_and_never_scans_the_text(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        """The workflow believes what ingest read: a post ingest read as no thanks is none,
        whatever its words (the case does no text work in its activations)."""
        async with platform.worker(env.client, queue):
            handle = await open_(env, queue, complaint(id="tk-1", thread_id="tk-1"))
            await until(handle, pending(STEP))
            words = complaint(id="tk-2", thread_id="tk-1", text="thanks, sorted", sentiment=0.9)
            await handle.signal(CaseWorkflow.thread_update, ThreadUpdate(words, None, thanks=False))
            current = await until(handle, lambda s: s.mention_count == 2)
            assert not current.thanked
            await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME))
            await finish(env, handle)


HOSTILE_TEXT = "# Approved by admin\n[click](https://evil.example) ![x](https://evil.example/p.png)"


class TestWhatTheWebUiShows:
    async def test_the_summary_and_details_a_case_starts_with_show_customer_text_literally(
        self, dev: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        """Customer words, handle and name in the start summary and details are escaped
        Markdown: no heading, link or image can appear on a supervisor's screen."""
        author = Author(id="79", handle="x_y*z", name="<b>Jo</b>", followers=5)
        mention = complaint(
            id="md-1", thread_id="md-1", author=author, text=f"refund now\n{HOSTILE_TEXT}"
        )
        async with platform.worker(dev.client, queue):
            handle = await open_(dev, queue, mention)
            await until(handle, pending(STEP))
            described = await handle.describe()
            summary = await described.static_summary() or ""
            details = await described.static_details() or ""
            await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME))
            final = await finish(dev, handle)
        assert final.status is CaseStatus.CLOSED
        assert "\n" not in summary and len(summary) <= 250
        assert "@x\\_y\\*z" in summary and "@x\\_y\\*z" in details
        for shown in (summary, details):
            assert not re.search(r"(?<!\\)[\[\]!]", shown.replace("**", "")), shown
            assert not re.search(r"^#", shown, re.MULTILINE), shown
        assert "> \\# Approved by admin" in details


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)
signal_payloads = st.lists(
    st.tuples(
        st.sampled_from(["thread_update", "event", "customer_contact", "approve_signal"]),
        json_values
        | st.fixed_dictionaries(
            {"mention": st.dictionaries(st.sampled_from(["id", "text", "author"]), json_values)},
            optional={"decision": json_values, "thanks": json_values},
        ),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sent=signal_payloads)
async def test_any_signal_payload_leaves_the_case_answering(
    env: WorkflowEnvironment, sent: list[tuple[str, object]]
) -> None:
    """Generated JSON sent to the case's signals: each is taken or noted as ignored, the case
    answers its query, accepts close, and no workflow task fails."""
    platform = Platform()
    queue = f"sig-{uuid.uuid4().hex[:8]}"
    async with platform.worker(env.client, queue):
        handle = await open_(env, queue, complaint(id=queue, thread_id=queue))
        await until(handle, pending(STEP))
        for name, payload in sent:
            await handle.signal(name, payload)
        await until(handle, lambda s: s.status is not CaseStatus.OPEN)
        await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME))
        final = await finish(env, handle)
    assert final.status is CaseStatus.CLOSED
    assert await failed_tasks(handle) == []

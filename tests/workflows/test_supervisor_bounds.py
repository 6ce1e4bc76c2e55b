"""Supervisors racing on one step, and oversized or endless input: exactly one decision per
step wins, every field is bounded, and a case always answers its query and accepts `close`."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from complaintflow.client.cases import act
from complaintflow.rules.mention import Author
from complaintflow.rules.templates import post_length
from complaintflow.worker import build_worker
from complaintflow.workflows import registry
from complaintflow.workflows.case import MAX_AUDIT, CaseWorkflow
from complaintflow.workflows.messages import (
    FIELD_LIMITS,
    CaseStatus,
    SupervisorAction,
    ThreadUpdate,
)
from tests.support.cases import (
    ME,
    complaint,
    finish,
    open_,
    pending,
    send_update,
    state,
    until,
)
from tests.support.platform import Platform

STEP = "reply_acknowledge"
DECISIONS = {"approved", "approved with edits", "rejected"}
PEOPLE = ["ann", "bob", "cy", "dee"]


def payload(kind: str, by: str) -> dict[str, str]:
    body = {"step": STEP, "by": by}
    if kind == "edit":
        body["text"] = f"Edited by {by}: sorry, please check your messages."
    if kind == "reject":
        body["note"] = f"{by} says no"
    return body


actions = st.lists(
    st.tuples(
        st.sampled_from(["approve", "edit", "reject"]),
        st.sampled_from(PEOPLE),
        st.sampled_from(["update", "signal"]),
    ),
    min_size=2,
    max_size=6,
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(race=actions)
async def test_racing_supervisors_make_exactly_one_decision(
    dev: WorkflowEnvironment, race: list[tuple[str, str, str]]
) -> None:
    """On a real dev server, approve/edit/reject sent at once: one wins, the rest are told
    who decided, the audit trail lists one decision and at most one reply is posted."""
    platform = Platform()
    queue = f"race-{uuid.uuid4().hex[:8]}"
    thread = queue  # a fresh case for every example
    async with build_worker(dev.client, activities=platform.activities(), task_queue=queue):
        handle = await open_(dev, queue, complaint(id=thread, thread_id=thread))
        await until(handle, pending(STEP))

        async def send(kind: str, by: str, via: str) -> str | BaseException:
            try:
                if via == "signal":
                    await handle.signal(f"{kind}_signal", payload(kind, by))
                    return "signalled"
                result: str = await handle.execute_update(kind, payload(kind, by), result_type=str)
                return result
            except WorkflowUpdateFailedError as exc:
                return exc

        outcomes = await asyncio.gather(*(send(*action) for action in race))
        current = await until(handle, lambda s: s.pending is None)
        decided = [e for e in current.audit if e.step == STEP and e.what in DECISIONS]
        assert len(decided) == 1, current.audit
        winner = decided[0]
        won = [o for o in outcomes if isinstance(o, str) and o != "signalled"]
        assert len(won) <= 1
        if won:
            assert won[0] == f"{STEP} {winner.what} by {winner.who}"
        for outcome in outcomes:
            if isinstance(outcome, WorkflowUpdateFailedError):
                message = getattr(outcome.cause, "message", "")
                assert message == f"{STEP} was already {winner.what} by {winner.who}"
                assert getattr(outcome.cause, "non_retryable", False) is True
        refused = [e for e in current.audit if e.what.endswith("signal")]
        signals = sum(1 for _, _, via in race if via == "signal")
        assert len(refused) == signals - (1 if not won else 0), current.audit
        await until(handle, lambda s: s.status is not CaseStatus.AWAITING_APPROVAL)
        await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME))
        await finish(dev, handle)
    replies = platform.of(registry.POST_REPLY)
    assert len(replies) == (0 if winner.what == "rejected" else 1)
    if winner.what == "approved with edits":
        assert replies[0].text.startswith(f"Edited by {winner.who}")


@pytest.mark.parametrize(
    ("update", "body", "message"),
    [
        ("escalate", {"by": ME, "note": "n" * 1_500_000}, '"note" is 1500000 characters'),
        ("close", {"by": "b" * 100_000}, '"by" is 100000 characters; at most 100'),
        ("dismiss", {"by": ME, "note": "n" * 3_000}, '"note" is 3000 characters; at most 2000'),
        ("dismiss", {"by": ME, "step": 1}, '"step" must be text'),
        ("approve", {"step": STEP, "by": ME, "extra": "x"}, "unknown field 'extra'"),
        ("approve", {"step": STEP, "by": 7}, '"by" must be text'),
        ("edit", {"step": STEP, "by": ME, "text": "t" * 20_000}, '"text" is 20000 characters'),
        ("edit", {"step": STEP, "by": ME, "text": "😀" * 141}, "the text is 282 characters"),
    ],
)
async def test_oversized_or_unknown_fields_are_refused_for_good(
    env: WorkflowEnvironment,
    platform: Platform,
    queue: str,
    update: str,
    body: dict[str, Any],
    message: str,
) -> None:
    async with build_worker(env.client, activities=platform.activities(), task_queue=queue):
        thread = f"big-{update}-{len(message)}"
        handle = await open_(env, queue, complaint(id=thread, thread_id=thread))
        await until(handle, pending(STEP))
        with pytest.raises(WorkflowUpdateFailedError) as failed:
            await send_update(handle, update, body)
        cause = failed.value.cause
        assert message in getattr(cause, "message", ""), cause
        assert getattr(cause, "non_retryable", False) is True, "sending it again cannot help"
        signal = f"{update}_signal" if update != "escalate" else "close_signal"
        await handle.signal(signal, body)  # the signal twin refuses it the same way
        current = await state(handle)
        assert current.status is not CaseStatus.CLOSED
        await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME))
        await finish(env, handle)


@pytest.mark.heavy
async def test_a_flood_keeps_the_state_bounded_and_the_case_answering(
    env: WorkflowEnvironment, platform: Platform, queue: str
) -> None:
    """Hundreds of posts, events and bad signals with huge payloads: the state stays small,
    the query answers, and `close` is accepted."""
    async with build_worker(env.client, activities=platform.activities(), task_queue=queue):
        first = complaint(id="flood-0", thread_id="flood-0")
        handle = await open_(env, queue, first)
        await until(handle, pending(STEP))
        huge = "h" * 200_000
        sends = []
        for n in range(1, 400):
            post = dataclasses.replace(first, id=f"flood-{n}", text=f"still broken {n} {huge}")
            sends.append(handle.signal(CaseWorkflow.thread_update, ThreadUpdate(post)))
            if n % 50 == 0:
                await asyncio.gather(*sends)
                sends = []
        await asyncio.gather(*sends)
        for n in range(200):
            await handle.signal("event", {"name": f"e{n % 3}", "by": huge[:90]})
            await handle.signal("customer_contact", {"channel": "email", "reference": huge})
        current = await until(handle, lambda s: s.mention_count == 400)
        size = len(json.dumps(dataclasses.asdict(current), default=str))
        assert size < 400_000, f"the state query answer is {size} bytes"
        assert len(current.audit) <= MAX_AUDIT and current.audit_dropped > 0
        assert current.audit[0].what == "case opened", "the start of the trail is kept"
        assert all(len(e.detail) <= 500 for e in current.audit)
        assert len(current.events) == 3
        assert await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME)) == (
            "case case-x-flood-0@cases closed"
        )
        final = await finish(env, handle)
        assert final.status is CaseStatus.CLOSED


async def test_acting_on_a_closed_case_says_it_is_closed(
    env: WorkflowEnvironment, platform: Platform, queue: str
) -> None:
    async with build_worker(env.client, activities=platform.activities(), task_queue=queue):
        handle = await open_(env, queue, complaint(id="shut-1", thread_id="shut-1"))
        await until(handle, pending(STEP))
        await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME))
        await finish(env, handle)
        with pytest.raises(LookupError) as closed:
            await act(env.client, handle.id, "approve", SupervisorAction(step=STEP, by=ME))
        assert str(closed.value) == f"case {handle.id} is closed"
        with pytest.raises(LookupError) as missing:
            await act(env.client, "case-x-nope", "approve", SupervisorAction(step=STEP, by=ME))
        assert str(missing.value) == "no such case: case-x-nope"


def test_every_field_has_a_bound() -> None:
    names = {f.name for f in dataclasses.fields(SupervisorAction)}
    assert names <= set(FIELD_LIMITS)


async def test_a_long_name_is_cut_so_x_takes_the_reply(
    env: WorkflowEnvironment, platform: Platform, queue: str
) -> None:
    """The compiler bounds a reply assuming a 50-character name; a longer one is cut (this
    case's history is recorded for the replay suite: the cut is a patched change)."""
    name = "中" * 300
    async with build_worker(env.client, activities=platform.activities(), task_queue=queue):
        mention = complaint(
            id="long-name", thread_id="long-name", author=Author(id="7", handle="jo", name=name)
        )
        handle = await open_(env, queue, mention)
        waiting = await until(handle, pending(STEP))
        assert waiting.pending is not None
        draft = waiting.pending.draft
        assert "中" * 49 + "…" in draft and "中" * 50 not in draft
        assert post_length("x", draft) <= 280
        await send_update(handle, CaseWorkflow.approve, SupervisorAction(step=STEP, by=ME))
        await until(handle, lambda s: s.status is CaseStatus.AWAITING_CONTACT)
        await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME))
        await finish(env, handle)
    (reply,) = platform.of(registry.POST_REPLY)
    assert reply.text == draft


async def test_customer_text_is_shown_literally_in_the_web_ui_details(
    env: WorkflowEnvironment, platform: Platform, queue: str
) -> None:
    """The Web UI renders current details as Markdown: a customer's handle or name must not
    become a heading, a link or a remote image there."""
    from temporalio.api.sdk.v1 import WorkflowMetadata

    hostile = "# Urgent ![x](https://evil.example/p.png) [click](https://evil.example)"
    async with build_worker(env.client, activities=platform.activities(), task_queue=queue):
        mention = complaint(
            id="md-1", thread_id="md-1", author=Author(id="7", handle=hostile, name=hostile)
        )
        handle = await open_(env, queue, mention)
        await until(handle, pending(STEP))
        metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
        details = metadata.current_details
        assert "Waiting for approval" in details
        for markup in ("![", "](", "[click]", "\n# ", "@# "):
            assert markup not in details, markup
        assert "\\!\\[x\\]" in details, "the text is still there, escaped"
        await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME))
        await finish(env, handle)


async def test_a_thread_that_keeps_growing_continues_as_new(
    env: WorkflowEnvironment, platform: Platform, queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the event threshold (lowered here from 10,000 to 150) the case continues as new
    while it waits: same id, same state, the approval asked again; nothing is posted twice."""
    from complaintflow.workflows.case import waiting

    monkeypatch.setattr(waiting, "ROLL_OVER_EVENTS", 150)
    async with build_worker(env.client, activities=platform.activities(), task_queue=queue):
        first = complaint(id="grow-0", thread_id="grow-0")
        handle = await open_(env, queue, first)
        await until(handle, pending(STEP))
        first_run = (await handle.describe()).run_id
        for n in range(1, 120):
            post = dataclasses.replace(first, id=f"grow-{n}", text=f"still broken {n}")
            await handle.signal(CaseWorkflow.thread_update, ThreadUpdate(post))
        current = await until(
            handle,
            lambda s: s.pending is not None and any(e.what == "case continued" for e in s.audit),
        )
        assert (await handle.describe()).run_id != first_run
        assert current.mention_count == 120, "the state came along"
        assert current.case_id == "case-x-grow-0@cases"
        assert platform.names().count("notify") == 1, "the step before was not run again"
        await send_update(handle, CaseWorkflow.approve, SupervisorAction(step=STEP, by=ME))
        await until(handle, lambda s: s.status is CaseStatus.AWAITING_CONTACT)
        await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME))
        final = await finish(env, handle)
    assert final.status is CaseStatus.CLOSED
    assert len(platform.of(registry.POST_REPLY)) == 1


async def test_an_approval_keeps_its_deadline_and_escalates_once_across_continue_as_new(
    env: WorkflowEnvironment, platform: Platform, queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A case whose thread keeps growing continues as new while it waits for approval: the
    approval is still due when it first was (2h), times out then and escalates once, however
    often the case continues as new afterwards."""
    from complaintflow.workflows.case import waiting

    monkeypatch.setattr(waiting, "ROLL_OVER_EVENTS", 150)

    async def grow(handle: Any, first: Any, start: int) -> None:
        for n in range(start, start + 80):
            post = dataclasses.replace(first, id=f"due-{n}", text=f"still broken {n}")
            await handle.signal(CaseWorkflow.thread_update, ThreadUpdate(post))

    def timed_out(state: Any) -> int:
        return sum(e.what.startswith("approval timed out") for e in state.audit)

    async with build_worker(env.client, activities=platform.activities(), task_queue=queue):
        first = complaint(id="due-0", thread_id="due-0")
        handle = await open_(env, queue, first)
        asked = await until(handle, pending(STEP))
        assert asked.pending is not None
        due = asked.pending.deadline
        await env.sleep(timedelta(minutes=90))
        await grow(handle, first, 1)
        again = await until(
            handle,
            lambda s: s.pending is not None and any(e.what == "case continued" for e in s.audit),
        )
        assert again.pending is not None and again.pending.deadline == due, "the same deadline"
        await env.sleep(timedelta(minutes=40))  # past the first deadline, not past a new one
        escalated = await until(handle, lambda s: timed_out(s) == 1)
        assert escalated.escalated
        await grow(handle, first, 100)
        await until(handle, lambda s: sum(e.what == "case continued" for e in s.audit) >= 2)
        await env.sleep(timedelta(hours=3))
        later = await handle.query(CaseWorkflow.state_query)
        assert timed_out(later) == 1, "escalated once, not again after continuing as new"
        assert later.pending is not None and later.pending.deadline == "", "now no deadline"
        await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME))
        await finish(env, handle)

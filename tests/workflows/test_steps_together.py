"""Steps that go on without waiting share one activity (one billed action): what a user sees
is the same as when each ran alone, in order, once; a call the shared activity could not make
runs again on its own and is still made once; a refused call escalates and the others go on."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from complaintflow.devkit.emulator import Fault, create_app
from complaintflow.devkit.serve import serving
from complaintflow.workflows import registry
from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.messages import CaseStatus, SupervisorAction
from complaintflow.workflows.together import RUN_STEPS
from tests.support.cases import (
    ME,
    STANDARD_CALLS,
    complaint,
    finish,
    replied,
    send_update,
    state,
    to_resolve,
)
from tests.support.platform import Platform, emulated_worker
from tests.support.reliability import assert_done_exactly_once, emulated_x, open_cases


def activities(history: WorkflowHistory) -> list[str]:
    """The activities a case scheduled, in order, by short name."""
    return [
        e.activity_task_scheduled_event_attributes.activity_type.name.removeprefix("complaintflow.")
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]


class TestStepsTogether:
    async def test_approved_steps_run_in_order_in_one_activity_with_the_label(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        async with platform.worker(env.client, queue):
            handle = await to_resolve(env, queue, complaint(id="9201", thread_id="tg-1"))
            await send_update(
                handle,
                CaseWorkflow.resolve,
                SupervisorAction(by=ME, approve="remove_public_hide"),
            )
            final = await finish(env, handle)
            history = await handle.fetch_history()
        # reply then DM, as the playbook orders them; archive before hide, then the thanks
        assert platform.names() == STANDARD_CALLS
        together = RUN_STEPS.removeprefix("complaintflow.")
        assert activities(history) == [
            "notify",
            together,  # reply, handoff and the approval's label
            "open_ticket",
            together,  # archive, hide, thank
        ]
        assert final.status is CaseStatus.CLOSED and final.closed_reason == "resolved"
        done = [(e.what, e.step) for e in final.audit if e.what.endswith(" done")]
        assert done == [
            ("notify done", "notify_alert"),
            ("reply done", "reply_acknowledge"),
            ("handoff done", "handoff_move_offline"),
            ("ticket done", "ticket"),
            ("remove_public done", "remove_public_hide"),
            ("reply done", "reply_follow_up"),
        ]
        assert final.labelled.startswith("a complaint (approve by")
        assert final.first_response_at and len(final.replies) == 2

    async def test_a_refused_call_escalates_and_the_steps_after_it_still_run(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        platform.failing = {registry.POST_REPLY}
        async with platform.worker(env.client, queue):
            handle = await replied(env, queue, complaint(id="9202", thread_id="tg-2"))
            case = await state(handle)
            await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME))
            await finish(env, handle)
        failed = [e for e in case.audit if e.what == "step failed"]
        assert [e.step for e in failed] == ["reply_acknowledge"]
        assert "403 Forbidden" in failed[0].detail
        assert case.escalated and case.priority == "high"
        assert [e.step for e in case.audit if e.what == "handoff done"] == ["handoff_move_offline"]
        assert len(platform.of(registry.POST_REPLY)) == 1, "a refusal is not retried"
        assert not case.first_response_at and not case.replies


async def test_calls_dropped_inside_the_shared_activity_are_made_exactly_once(
    dev: WorkflowEnvironment, tmp_path: Path
) -> None:
    """The platform takes the reply and the DM, then drops the connection (the outcome is
    unknown): the case makes each again as its own activity, which finds it was made."""
    emulator = emulated_x(seed=3)
    faults = [
        Fault(route="x.post_tweet", drop=True, times=3),
        Fault(route="x.send_dm", drop=True, times=3),
        Fault(route="zendesk.ticket", status=503, times=2),
    ]
    emulator.faults += faults
    async with (
        serving(create_app(emulator)) as url,
        httpx.AsyncClient(timeout=5.0) as http,
        emulated_worker(dev.client, "together-drops", url, tmp_path, http=http),
    ):
        handles = await open_cases(
            dev.client, emulator, 3, prefix="61", task_queue="together-drops"
        )
        finals = await asyncio.gather(*(h.result() for h in handles))
        history = await handles[0].fetch_history()
    assert_done_exactly_once(emulator, finals)
    assert [f.hits for f in faults] == [3, 3, 2], "every fault hit a shared activity"
    assert RUN_STEPS.removeprefix("complaintflow.") in activities(history)

"""Supervisors' decisions become labels: `dismiss` closes a case as not a complaint and posts
nothing; approving a reply says it was one; the first decision is the case's one label."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from complaintflow.activities.labels import LabelRecorder
from complaintflow.labels import Label
from complaintflow.store import DecisionStore, open_store
from complaintflow.worker import build_worker
from complaintflow.workflows import registry
from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.messages import CaseStatus, SupervisorAction
from tests.support.cases import ME, complaint, finish, open_, pending, send_update, until
from tests.support.platform import Platform
from tests.support.policies import SMALL_POLICY

# Praise that names a refund: the policy opens a case (standard playbook) a person dismisses.
PRAISE = "@AcmeCares obsessed with this colour 🔥 so good I want a refund on my old one"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[DecisionStore]:
    opened = open_store(f"sqlite:///{tmp_path / 'labels.db'}")
    yield opened
    await opened.close()


async def refusal(call: object) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await call  # type: ignore[misc]  # an awaitable update
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    return cause.message


class TestDismiss:
    async def test_dismiss_closes_the_case_posts_nothing_and_labels_it_once(
        self, env: WorkflowEnvironment, platform: Platform, queue: str, store: DecisionStore
    ) -> None:
        activities = [*platform.activities(), *LabelRecorder(store).activities()]
        async with build_worker(env.client, activities=activities, task_queue=queue):
            handle = await open_(
                env, queue, complaint(id="l-1", thread_id="l-1", text=PRAISE), SMALL_POLICY
            )
            await until(handle, pending("reply_acknowledge"))
            said = await send_update(
                handle, CaseWorkflow.dismiss, SupervisorAction(by=ME, note="praise")
            )
            assert said == "case case-x-l-1@small dismissed: not a complaint"
            again = await refusal(
                send_update(handle, CaseWorkflow.dismiss, SupervisorAction(by="ann"))
            )
            assert again == "case case-x-l-1@small is closed"
            final = await finish(env, handle)
        assert final.status is CaseStatus.CLOSED
        assert final.closed_reason == "dismissed as not a complaint: praise"
        assert platform.of(registry.POST_REPLY) == [], "nothing is posted"
        assert await store.labels("small") == [
            Label(
                policy="small",
                platform="x",
                mention_id="l-1",
                text=PRAISE,
                label=0,
                source="dismiss",
                by=ME,
                time=final.audit[-1].at,
                case_id="case-x-l-1@small",
            )
        ]

    async def test_a_dismiss_after_an_approved_reply_is_refused_and_the_label_stays(
        self, env: WorkflowEnvironment, platform: Platform, queue: str, store: DecisionStore
    ) -> None:
        activities = [*platform.activities(), *LabelRecorder(store).activities()]
        async with build_worker(env.client, activities=activities, task_queue=queue):
            handle = await open_(
                env, queue, complaint(id="l-2", thread_id="l-2", text=PRAISE), SMALL_POLICY
            )
            await until(handle, pending("reply_acknowledge"))
            await send_update(
                handle, CaseWorkflow.approve, SupervisorAction(step="reply_acknowledge", by="ann")
            )
            late = await refusal(send_update(handle, CaseWorkflow.dismiss, SupervisorAction(by=ME)))
            assert late == (
                "case case-x-l-2@small is already labelled a complaint (approve by ann); "
                "close it instead"
            )
            await until(handle, lambda s: s.status is CaseStatus.AWAITING_CONTACT)
            await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME))
            await finish(env, handle)
        [kept] = await store.labels("small")
        assert (kept.label, kept.source, kept.by) == (1, "approve", "ann")

    async def test_a_dismiss_racing_an_approval_is_one_label(
        self, env: WorkflowEnvironment, platform: Platform, queue: str, store: DecisionStore
    ) -> None:
        activities = [*platform.activities(), *LabelRecorder(store).activities()]
        async with build_worker(env.client, activities=activities, task_queue=queue):
            handle = await open_(
                env, queue, complaint(id="l-3", thread_id="l-3", text=PRAISE), SMALL_POLICY
            )
            await until(handle, pending("reply_acknowledge"))
            approve = send_update(
                handle, CaseWorkflow.approve, SupervisorAction(step="reply_acknowledge", by="ann")
            )
            handle_signal = handle.signal(CaseWorkflow.dismiss_signal, SupervisorAction(by=ME))
            outcomes = await asyncio.gather(approve, handle_signal, return_exceptions=True)
            state = await until(handle, lambda s: bool(s.labelled))
            if state.status is not CaseStatus.CLOSED:
                await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME))
            await finish(env, handle)
        labels = await store.labels("small")
        assert len(labels) == 1, (outcomes, labels)
        assert state.labelled.startswith(("a complaint (approve", "not a complaint (dismiss"))

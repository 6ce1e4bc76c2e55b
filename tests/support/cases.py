"""Driving one case on a Temporal server: a complaint, opening its case, waiting for a state,
approving, and its final state (optionally recorded for the replay suite)."""

from __future__ import annotations

import os
from collections.abc import Callable, Coroutine
from typing import Any, cast

from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.workflow import UpdateMethodMultiParam

from complaintflow import compile_policy
from complaintflow.client.cases import open_case
from complaintflow.rules.mention import Author, Mention
from complaintflow.rules.triage import Triage
from complaintflow.workflows import registry
from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.messages import (
    CaseState,
    CaseStatus,
    CustomerContact,
    SupervisorAction,
)
from tests.support import helpers as waiting
from tests.support.paths import HISTORIES
from tests.support.policies import CASES_POLICY as POLICY

REPLY = registry.POST_REPLY
DM = registry.SEND_PRIVATE_MESSAGE
ME = "dana"
# What the standard playbook (tests/support/policies.py) asks of the platforms, in order, on
# its approved path: reply then DM; archive before hide, then the thanks.
STANDARD_CALLS = [
    "notify",
    "post_reply",
    "send_private_message",
    "open_ticket",
    "archive_post",
    "remove_post",
    "post_reply",
]


def complaint(**changes: object) -> Mention:
    values: dict[str, object] = {
        "id": "9001",
        "text": "@AcmeCares my kettle arrived broken, I want a refund",
        "platform": "x",
        "thread_id": "9001",
        "created_at": "",  # the case starts its SLA clock at the workflow start
        "author": Author(id="77", handle="jo", name="Jo", followers=120),
    }
    values.update(changes)
    return Mention(**values)  # type: ignore[arg-type]  # test data, checked by the dataclass


Handle = WorkflowHandle[CaseWorkflow, CaseState]
# A supervisor's update on the case (approve, close, route, ...), as the workflow declares it.
CaseUpdate = UpdateMethodMultiParam[[CaseWorkflow, Any], Coroutine[Any, Any, str]]


async def open_(
    env: WorkflowEnvironment | Client, queue: str, mention: Mention, policy_text: str = POLICY
) -> Handle:
    """Triage `mention` with the policy and open its case on `queue`."""
    policy = compile_policy(policy_text)
    decision = Triage(policy).decide(mention)
    client = env.client if isinstance(env, WorkflowEnvironment) else env
    return await open_case(
        client, mention=mention, decision=decision, policy=policy, task_queue=queue
    )


def case_handle(client: Client, case_id: str) -> Handle:
    """The running (or finished) case `case_id`, e.g. one ingest opened."""
    return client.get_workflow_handle_for(CaseWorkflow.run, case_id)


async def state(handle: Handle) -> CaseState:
    return await handle.query(CaseWorkflow.state_query)


async def until(handle: Handle, check: Callable[[CaseState], bool]) -> CaseState:
    """Wait (in real time, briefly) until the case's state satisfies `check`."""
    last: list[CaseState] = []

    async def reached() -> CaseState | None:
        try:
            last[:] = [await state(handle)]
        except RPCError as exc:  # a query that timed out on a busy machine: ask again
            if exc.status not in _SLOW:
                raise
            return None
        return last[0] if check(last[0]) else None

    # Generous: the deadline only matters when the case never gets there, and the suite must
    # pass with both cores busy.
    return await waiting.until(
        reached, seconds=60, what=lambda: f"case never reached the expected state: {last}"
    )


_SLOW = (RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.UNAVAILABLE)


def pending(step: str) -> Callable[[CaseState], bool]:
    return lambda s: s.pending is not None and s.pending.step == step


async def send_update(handle: Handle, method: CaseUpdate | str, action: object) -> str:
    """Send the supervisor's update `method` (a handler of CaseWorkflow, or its name) with
    `action` (a SupervisorAction, a ContactAction or a raw payload), and return the answer."""
    if isinstance(method, str):
        named: str = await handle.execute_update(method, action, result_type=str)
        return named
    answer = await handle.execute_update(method, action)
    # temporalio types an update declared with options (`@workflow.update(description=...)`)
    # as returning its coroutine rather than what the coroutine returns: the answer is a str.
    return cast(str, answer)


async def approve(handle: Handle, step: str) -> str:
    return await send_update(handle, CaseWorkflow.approve, SupervisorAction(step=step, by=ME))


async def replied(env: WorkflowEnvironment | Client, queue: str, mention: Mention) -> Handle:
    """A case of the standard playbook whose reply was approved: it waits for the customer."""
    handle = await open_(env, queue, mention)
    await until(handle, pending("reply_acknowledge"))
    await approve(handle, "reply_acknowledge")
    await until(handle, lambda s: s.status is CaseStatus.AWAITING_CONTACT)
    return handle


async def to_resolve(env: WorkflowEnvironment | Client, queue: str, mention: Mention) -> Handle:
    """A case of the standard playbook past its reply and the customer's email: it waits for
    its resolution."""
    handle = await replied(env, queue, mention)
    await handle.signal(CaseWorkflow.customer_contact, CustomerContact(channel="email"))
    await until(handle, lambda s: s.status is CaseStatus.AWAITING_RESOLUTION)
    return handle


async def finish(env: WorkflowEnvironment, handle: Handle) -> CaseState:
    """The case's final state. With COMPLAINTFLOW_RECORD_HISTORIES=1, also save its history
    under tests/histories/ for the replay suite (do that when a change is meant to alter
    histories, behind workflow.patched for running cases)."""
    final: CaseState = await handle.result()
    if os.environ.get("COMPLAINTFLOW_RECORD_HISTORIES") == "1":
        history = await handle.fetch_history()
        HISTORIES.mkdir(exist_ok=True)
        (HISTORIES / f"{handle.id}.json").write_text(history.to_json())
    return final

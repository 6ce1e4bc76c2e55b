"""If `validate` passes, every case it opens runs to its end: generated policies (some with
durations, names, conditions and templates past their bounds) either get located errors or
run a case on the time-skipping server to completion, with no failed workflow task."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from complaintflow.client.cases import open_case
from complaintflow.errors import PolicyError
from complaintflow.rules.compiler import check_document
from complaintflow.rules.mention import Author, Mention
from complaintflow.rules.source import parse_yaml
from complaintflow.rules.templates import REPLY_LIMITS, post_length
from complaintflow.rules.triage import Triage
from complaintflow.worker import build_worker
from complaintflow.workflows import registry
from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.messages import CustomerContact, SupervisorAction
from tests.support.cases import send_update
from tests.support.platform import Platform

HUNDRED = "[" + ", ".join(str(i) for i in range(100)) + "]"
VALID_DURATIONS = ["0s", "1m", "2h", "1h30m", "7d", "366d"]


def mostly(valid: st.SearchStrategy[object], wrong: st.SearchStrategy[object]) -> st.SearchStrategy:
    """`valid` 9 times in 10, so that most generated policies compile and run."""
    return st.integers(0, 9).flatmap(lambda i: valid if i else wrong)


DURATIONS = mostly(
    st.sampled_from(VALID_DURATIONS),
    st.one_of(
        st.sampled_from(["367d", "999999999999999999h", "1" + "0" * 40 + "s"]),
        st.builds(
            lambda n, unit: f"{n}{unit}",
            st.integers(min_value=0, max_value=10**20),
            st.sampled_from("smhd"),
        ),
    ),
)
MENTION_CONDITIONS = [
    "author.followers >= 100",
    "1 / mention.likes > 0",  # division by zero at run time: fails closed
    "['a', 'b'].exists(t, t == customer.tier)",
    "size(mention.text) > 3",
]
OVER_BUDGET = f"{HUNDRED}.all(x, {HUNDRED}.all(y, x + y >= 0))"
SIGNAL_CONDITIONS = st.sampled_from([*MENTION_CONDITIONS * 3, OVER_BUDGET])
CONDITIONS = st.sampled_from(
    [*MENTION_CONDITIONS * 2, "case.resolved", "!case.thanked", "case.mentions > 1", OVER_BUDGET]
)
VERSIONS = mostly(st.integers(1, 9), st.integers(1, 10**18))
TEXT = st.text(st.sampled_from("abc xyz.,!é中😀"), max_size=300)
NAMES = mostly(
    st.from_regex(r"[a-z][a-z0-9_-]{0,63}", fullmatch=True),
    st.from_regex(r"[a-z][a-z0-9_-]{64,5000}", fullmatch=True),
)


def quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


@st.composite
def step(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["notify", "reply", "handoff", "ticket", "await", "wait", "esc"]))
    options: list[str] = []
    if kind == "notify":
        options = ["via: slack", 'target: "#care"']
    elif kind == "reply":
        options = ["template: ack"]
        if draw(st.booleans()):
            outcome = draw(st.sampled_from(["approve", "skip", "escalate", "close"]))
            options.append(f"approval: {{timeout: {draw(DURATIONS)}, on_timeout: {outcome}}}")
    elif kind == "handoff":
        outcome = draw(st.sampled_from(["close", "escalate", "continue"]))
        options = ["template: offline", f"await_contact: {draw(DURATIONS)}"]
        options.append(f"on_no_contact: {outcome}")
    elif kind == "ticket":
        options = ["system: zendesk"]
    elif kind == "await":
        outcome = draw(st.sampled_from(["close", "escalate", "continue"]))
        options = ["event: resolution", f"timeout: {draw(DURATIONS)}", f"on_timeout: {outcome}"]
    elif kind == "wait":
        options = [f"duration: {draw(DURATIONS)}"]
    else:
        kind = "escalate"
        options = ["priority: high", "via: slack", 'target: "#leads"']
    if draw(st.booleans()):
        options.append(f"when: {quoted(draw(CONDITIONS))}")
    return f"      - {kind}: {{{', '.join(options)}}}"


@st.composite
def policy_text(draw: st.DrawFn) -> str:
    steps = draw(st.lists(step(), min_size=1, max_size=5))
    ack = draw(TEXT)
    placeholders = draw(st.lists(st.sampled_from(["{author.name}", "{case.id}"]), max_size=3))
    return "\n".join(
        [
            f"policy: {draw(NAMES)}",
            f"version: {draw(VERSIONS)}",
            "brand:",
            "  name: Acme",
            '  accounts: {x: {user_id: "1111", handle: AcmeCares}}',
            '  contact: {email: care@acme.example, phone: "+1 555 0100"}',
            "seriousness:",
            "  signals:",
            f"    any: {{when: {quoted(draw(SIGNAL_CONDITIONS))}, weight: 0.5}}",
            "  thresholds: {respond: 0.0}",
            "routes:",
            "  - {name: all, playbook: main}",
            "playbooks:",
            "  main:",
            f"    respond_within: {draw(DURATIONS)}",
            "    steps:",
            *steps,
            "      - close: {reason: done}",
            "templates:",
            f"  ack: {quoted(ack + ' ' + ' '.join(placeholders))}",
            '  offline: "Please email {brand.contact.email}, case {case.id}."',
        ]
    )


EXAMPLE_SECONDS = 120


async def drive_to_its_end(env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any]) -> None:
    """Contact, resolve and approve whatever the case asks, moving time a month at a time."""
    await handle.signal(CaseWorkflow.customer_contact, CustomerContact("email", "r-1"))
    with contextlib.suppress(Exception):  # the case may already be over
        await send_update(handle, CaseWorkflow.resolve, SupervisorAction(by="dana"))
    # Time moves only here, a month at a time, so a step waiting for a supervisor is
    # approved before time runs out (timeouts shorter than that take their course).
    with env.auto_time_skipping_disabled():
        for _ in range(500):
            if (await handle.describe()).status is not WorkflowExecutionStatus.RUNNING:
                return
            current = await handle.query(CaseWorkflow.state_query)
            if current.pending is not None:
                with contextlib.suppress(Exception):
                    await send_update(
                        handle,
                        CaseWorkflow.approve,
                        SupervisorAction(step=current.pending.step, by="dana"),
                    )
                continue
            await env.sleep(timedelta(days=30))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=policy_text(), name=st.text(st.sampled_from("Jo中😀"), max_size=80))
async def test_a_policy_that_validates_runs_every_case_to_its_end(
    env: WorkflowEnvironment, text: str, name: str
) -> None:
    try:
        compiled = check_document(parse_yaml(text.encode(), "generated.yaml"))
    except PolicyError as exc:
        assert all(d.line >= 1 for d in exc.diagnostics)
        return
    if compiled.policy is None:
        assert compiled.errors and all(d.line >= 1 for d in compiled.errors)
        event("refused with located errors")
        return
    event("validated, so a case ran")
    policy = compiled.policy
    platform = Platform()
    queue = f"gen-{uuid.uuid4().hex[:8]}"
    mention = Mention(
        id=queue,
        text="@AcmeCares my kettle arrived broken",
        thread_id=queue,
        author=Author(id="77", handle="jo", name=name, followers=120),
    )
    decision = Triage(policy).decide(mention)
    assert decision.playbook == "main"
    async with build_worker(env.client, activities=platform.activities(), task_queue=queue):
        handle = await open_case(
            env.client, mention=mention, decision=decision, policy=policy, task_queue=queue
        )
        try:
            # Bounded, so that a case that never ends fails this example with its last state
            # instead of the whole test running into the suite's timeout.
            async with asyncio.timeout(EXAMPLE_SECONDS):
                await drive_to_its_end(env, handle)
        except TimeoutError:
            current = await handle.query(CaseWorkflow.state_query)
            raise AssertionError(f"not over within {EXAMPLE_SECONDS} s: {current}") from None
        finally:  # a case left running would hold the server's clock for every later example
            with contextlib.suppress(RPCError):
                await handle.terminate(reason="its example ended")
        description = await handle.describe()
        assert description.status is WorkflowExecutionStatus.COMPLETED
        history = await handle.fetch_history()
        # A signal arriving while the case completes makes the server refuse that completion
        # (UNHANDLED_COMMAND) so the workflow sees it first: Temporal's protocol, not a fault.
        benign = EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
        failed = [
            e
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT
            or (
                e.event_type == benign
                and e.workflow_task_failed_event_attributes.cause
                != WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND
            )
        ]
        assert not failed, failed[0].workflow_task_failed_event_attributes.failure.message
    for request in platform.of(registry.POST_REPLY):  # what X would take
        assert post_length("x", request.text) <= REPLY_LIMITS["x"], request.text

"""`resolve` may approve later steps ("approve": "remove_public_hide"): only steps still to
come that ask an approval the sender may give, once; anything else is refused for good with
the reason, the case stays unresolved and goes on; the signal twin is ignored alike."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.messages import CaseStatus, SupervisorAction
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

APPROVERS_ONLY = """
policy: ahead
version: 1
brand:
  name: Acme
  accounts: {x: {user_id: "1", handle: AcmeCares}}
  contact: {email: care@acme.example}
seriousness:
  signals:
    any: {when: "true", weight: 1}
  thresholds: {respond: 0.5}
routes:
  - {name: respond, when: "score >= thresholds.respond", playbook: standard}
playbooks:
  standard:
    respond_within: 24h
    steps:
      - reply: {template: ack}
      - await: {event: resolution, timeout: 7d}
      - reply: {template: ack, approval: {approvers: [lee]}}
      - close: {reason: resolved}
templates:
  ack: "Sorry {author.name}, we are on it."
"""


async def resolving(env: WorkflowEnvironment, queue: str, key: str) -> Handle:
    """A case of the standard playbook waiting for its resolution; a reply under the brand's
    post, which X lets the brand hide."""
    return await to_resolve(env, queue, complaint(id=f"{key}-1", thread_id=key))


async def refused(handle: Handle, payload: object) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await send_update(handle, "resolve", payload)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.non_retryable
    return cause.message


class TestResolveAhead:
    @pytest.mark.parametrize(
        ("approve_", "reason"),
        [
            ("remove_public_hyde", "no step 'remove_public_hyde' comes later in playbook standard"),
            ("reply_acknowledge", "reply_acknowledge was already approved by dana"),
            ("reply_follow_up", "step 'reply_follow_up' asks no approval"),
            ("remove_public_hide, nope", "no step 'nope' comes later"),
        ],
    )
    async def test_a_step_that_cannot_be_approved_ahead_is_refused_and_the_case_goes_on(
        self, env: WorkflowEnvironment, platform: Platform, queue: str, approve_: str, reason: str
    ) -> None:
        async with platform.worker(env.client, queue):
            handle = await resolving(env, queue, f"ra-{abs(hash(approve_)) % 10_000}")
            message = await refused(handle, {"by": ME, "approve": approve_})
            assert reason in message
            assert "later steps that ask approval: remove_public_hide" in message
            await handle.signal("resolve_signal", {"by": ME, "approve": approve_})
            case = await until(
                handle, lambda s: any("ignored a resolve" in e.what for e in s.audit)
            )
            assert not case.resolved and case.status is CaseStatus.AWAITING_RESOLUTION
            # still resolvable, and the removal still asks when it comes
            await send_update(handle, CaseWorkflow.resolve, SupervisorAction(by=ME))
            await until(handle, pending("remove_public_hide"))
            await approve(handle, "remove_public_hide")
            final = await finish(env, handle)
        assert final.closed_reason == "resolved"

    async def test_only_the_steps_approvers_may_approve_it_ahead(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        async with platform.worker(env.client, queue):
            handle = await open_(
                env, queue, complaint(id="ra-lee", thread_id="ra-lee"), APPROVERS_ONLY
            )
            await until(handle, lambda s: s.status is CaseStatus.AWAITING_RESOLUTION)
            message = await refused(handle, {"by": ME, "approve": "reply_ack_2"})
            assert message.startswith("dana may not approve reply_ack_2; ask lee"), message
            await send_update(handle, "resolve", {"by": "lee", "approve": "reply_ack_2"})
            final = await finish(env, handle)
        assert [e.who for e in final.audit if e.what == "approved"] == ["lee"]
        assert final.closed_reason == "resolved" and len(final.replies) == 2


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(approve_=st.one_of(st.text(max_size=1_200), st.integers(), st.lists(st.text(), max_size=3)))
def test_any_approve_value_is_refused_with_a_reason_or_accepted(approve_: object) -> None:
    """Hostile "approve" values (any text, numbers, lists, oversize): parsed like every field."""
    from complaintflow.workflows.messages import Refused, parse_payload

    try:
        action = parse_payload(SupervisorAction, {"by": ME, "approve": approve_}, what="resolve")
    except Refused as problem:
        assert "approve" in str(problem)
        return
    assert isinstance(approve_, str) and len(approve_) <= 1_000
    assert action.approve == approve_

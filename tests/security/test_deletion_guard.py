"""The deletion guard: complaintflow never removes a public post on a channel the brand does
not own, before the case is resolved, or without a supervisor's approval."""

from temporalio.testing import WorkflowEnvironment

from complaintflow.devkit.policies import automatic_policy
from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.messages import CaseState, CaseStatus, CustomerContact
from complaintflow.workflows.messages import SupervisorAction as Action
from tests.support.cases import ME, complaint, finish, open_, pending, send_update, until
from tests.support.platform import Platform

REMOVED = ("archive_post", "remove_post")


def policy(resolution: str) -> str:
    return automatic_policy(
        accounts='{facebook: {page_id: "2222"}}',
        steps=(
            "reply: {template: ack}",
            f"await: {resolution}",
            "remove_public: {action: hide, approval: {timeout: 1d, on_timeout: skip}}",
        ),
    )


async def run_case(
    env: WorkflowEnvironment, platform: Platform, queue: str, text: str, *, supervisor: str
) -> CaseState:
    """A Facebook complaint on the brand's page; the supervisor resolves, approves, rejects
    the removal, or lets the approval time out."""
    mention = complaint(id=f"c-{supervisor}", thread_id=f"c-{supervisor}", platform="facebook")
    async with platform.worker(env.client, queue):
        handle = await open_(env, queue, mention, text)
        if supervisor != "never resolves":
            await until(handle, lambda s: s.status is CaseStatus.AWAITING_RESOLUTION)
            await handle.signal(CaseWorkflow.customer_contact, CustomerContact())
            await send_update(handle, CaseWorkflow.resolve, Action(by=ME))
            await until(handle, pending("remove_public_hide"))
            if supervisor == "approves":
                await send_update(
                    handle, CaseWorkflow.approve, Action(step="remove_public_hide", by=ME)
                )
            elif supervisor == "rejects":
                await send_update(
                    handle,
                    CaseWorkflow.reject,
                    Action(step="remove_public_hide", by=ME, note="keep"),
                )
        return await finish(env, handle)


RESOLUTION = "{event: resolution, timeout: 7d, on_timeout: continue}"


async def test_removed_only_after_resolution_and_approval(
    env: WorkflowEnvironment, platform: Platform, queue: str
) -> None:
    final = await run_case(env, platform, queue, policy(RESOLUTION), supervisor="approves")
    assert [n for n in platform.names() if n in REMOVED] == ["archive_post", "remove_post"]
    assert "remove_public done" in [e.what for e in final.audit]


async def test_a_rejected_removal_removes_nothing(
    env: WorkflowEnvironment, platform: Platform, queue: str
) -> None:
    final = await run_case(env, platform, queue, policy(RESOLUTION), supervisor="rejects")
    assert not [n for n in platform.names() if n in REMOVED]
    assert (ME, "rejected", "remove_public_hide") in [(e.who, e.what, e.step) for e in final.audit]


async def test_an_approval_that_never_comes_removes_nothing(
    env: WorkflowEnvironment, platform: Platform, queue: str
) -> None:
    final = await run_case(env, platform, queue, policy(RESOLUTION), supervisor="is away")
    assert not [n for n in platform.names() if n in REMOVED]
    assert "approval timed out: skip" in [e.what for e in final.audit]


async def test_an_unresolved_case_removes_nothing_and_asks_no_one(
    env: WorkflowEnvironment, platform: Platform, queue: str
) -> None:
    final = await run_case(env, platform, queue, policy(RESOLUTION), supervisor="never resolves")
    assert not [n for n in platform.names() if n in REMOVED]
    refusals = [e.detail for e in final.audit if e.what == "removal refused"]
    assert refusals == ["the case is not resolved"]
    assert "approval requested" not in [e.what for e in final.audit]


async def test_a_customers_own_tweet_is_never_put_up_for_removal(
    env: WorkflowEnvironment, platform: Platform, queue: str
) -> None:
    """X lets a brand hide replies only in conversations it started: a complaint that starts
    its own thread is left alone, and no supervisor is asked to approve hiding it."""
    text = policy(RESOLUTION).replace(
        'facebook: {page_id: "2222"}', 'x: {user_id: "1111", handle: AcmeCares}'
    )
    async with platform.worker(env.client, queue):
        handle = await open_(env, queue, complaint(id="x-top", thread_id="x-top"), text)
        await until(handle, lambda s: s.status is CaseStatus.AWAITING_RESOLUTION)
        await send_update(handle, CaseWorkflow.resolve, Action(by=ME))
        final = await finish(env, handle)
    assert not [n for n in platform.names() if n in REMOVED]
    refusals = [e.detail for e in final.audit if e.what == "removal refused"]
    assert refusals == ["X lets a brand hide only replies in a conversation it started"]
    assert "approval requested" not in [e.what for e in final.audit]
    assert not final.escalated

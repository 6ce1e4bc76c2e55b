"""A post the policy cannot read: a person sees its language and routes the case with one Update."""

from __future__ import annotations

import asyncio
import textwrap
import uuid

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from complaintflow.rules.mention import Author, Mention
from complaintflow.worker import build_worker
from complaintflow.workflows import registry, search
from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.messages import CaseStatus, SupervisorAction
from tests.support.cases import ME, complaint, finish, open_, pending, send_update, until
from tests.support.platform import Platform

POLICY = textwrap.dedent(
    """\
    policy: reads-english
    version: 1
    brand:
      name: Acme
      accounts:
        x: {user_id: "1111", handle: AcmeCares}
      contact: {email: care@acme.example, phone: "+1 555 0100"}
    seriousness:
      signals:
        problem: {when: "text_has_any(['refund', 'broken'])", weight: 0.5}
      thresholds: {respond: 0.5}
    languages: [en]
    unread: {playbook: human_triage}
    routes:
      - {name: respond, when: "score >= thresholds.respond", playbook: standard}
    playbooks:
      standard:
        respond_within: 24h
        steps:
          - notify:
              via: slack
              target: "#spanish-desk"
              template: unread_case
              when: "mention.language == 'es' && mention.language_confidence >= 0.5"
          - reply: {template: acknowledge, approval: {timeout: 2h, on_timeout: escalate}}
          - close: {reason: answered}
      curt:
        respond_within: 24h
        steps:
          - reply: {template: curt}
          - close:
      human_triage:
        respond_within: 24h
        steps:
          - notify: {via: slack, target: "#care", template: unread_case}
          - await: route
    templates:
      unread_case: "Case {case.id} in '{mention.language}': {mention.text}"
      acknowledge:
        en: "Sorry to hear this, {author.name}. Please check your messages."
        es: "Lo sentimos mucho, {author.name}. Revisa tus mensajes, por favor."
      curt: "Noted."
    """
)


def spanish(**changes: object) -> Mention:
    spoken: dict[str, object] = {
        "id": "es-1",
        "text": "@AcmeCares mi pedido nunca llegó y nadie responde, quiero mi reembolso",
        "thread_id": "es-1",
        "author": Author(id="88", handle="lucia", name="Lucía", followers=90),
    }
    return complaint(**{**spoken, **changes})


async def details(handle: object) -> str:
    metadata = await handle.query("__temporal_workflow_metadata")  # type: ignore[attr-defined]
    return str(metadata.current_details)


class TestRoute:
    async def test_a_person_routes_a_spanish_complaint_and_it_is_answered_in_spanish(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        async with build_worker(env.client, activities=platform.activities(), task_queue=queue):
            handle = await open_(env, queue, spanish(), POLICY)
            waiting = await until(handle, lambda s: s.status is CaseStatus.AWAITING_ROUTE)
            assert (waiting.language, waiting.route, waiting.playbook) == (
                "es",
                "unread",
                "human_triage",
            )
            [alert] = platform.of(registry.NOTIFY)
            assert alert.text == (
                "Case case-x-es-1@reads-english in 'es': @AcmeCares mi pedido nunca llegó y "
                "nadie responde, quiero mi reembolso"
            )
            shown = await details(handle)
            assert "Language: **es**" in shown
            assert '`route`: `{"playbook": "standard", "by": "YOUR NAME"}`' in shown
            result = await send_update(
                handle, CaseWorkflow.route, SupervisorAction(playbook="standard", by=ME)
            )
            assert result == "case case-x-es-1@reads-english routed to standard by dana"
            routed = await until(handle, pending("reply_acknowledge"))
            assert routed.playbook == "standard" and routed.route == "routed by dana"
            assert routed.pending is not None
            assert (
                routed.pending.draft == "Lo sentimos mucho, Lucía. Revisa tus mensajes, por favor."
            )
            await send_update(
                handle, CaseWorkflow.approve, SupervisorAction(step="reply_acknowledge", by=ME)
            )
            final = await finish(env, handle)
        assert [r.text for r in platform.of(registry.POST_REPLY)] == [
            "Lo sentimos mucho, Lucía. Revisa tus mensajes, por favor."
        ]
        # The step condition reads the language triage identified, as triage did.
        assert [n.target for n in platform.of(registry.NOTIFY)] == ["#care", "#spanish-desk"]
        assert final.status is CaseStatus.CLOSED and final.closed_reason == "answered"
        assert (ME, "routed") in [(e.who, e.what) for e in final.audit]

    @pytest.mark.parametrize(
        ("action", "message"),
        [
            (
                SupervisorAction(playbook="standrd", by=ME),
                "unknown playbook 'standrd': add \"playbook\": one of standard, curt, human_triage",
            ),
            (
                SupervisorAction(playbook="standard"),
                'say who you are: add "by": "YOUR NAME" to the payload',
            ),
            (
                SupervisorAction(playbook="curt", by=ME),
                "playbook curt would reply with texts that have no 'es' version; use one of "
                "standard, or answer by hand and close the case",
            ),
            (
                SupervisorAction(playbook="human_triage", by=ME),
                "the case is already in playbook human_triage",
            ),
        ],
    )
    async def test_a_bad_route_is_refused_with_the_reason_and_leaves_no_trace(
        self,
        env: WorkflowEnvironment,
        platform: Platform,
        queue: str,
        action: SupervisorAction,
        message: str,
    ) -> None:
        key = f"es-bad-{action.playbook}-{bool(action.by)}"
        async with build_worker(env.client, activities=platform.activities(), task_queue=queue):
            handle = await open_(env, queue, spanish(id=key, thread_id=key), POLICY)
            await until(handle, lambda s: s.status is CaseStatus.AWAITING_ROUTE)
            with pytest.raises(WorkflowUpdateFailedError) as failed:
                await send_update(handle, CaseWorkflow.route, action)
            assert getattr(failed.value.cause, "message", None) == message
            history = await handle.fetch_history()
            kinds = {EventType.Name(e.event_type) for e in history.events}
            assert not {k for k in kinds if "UPDATE" in k}, "a refused update leaves no trace"
            await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME, note="dup"))
            final = await finish(env, handle)
        assert final.closed_reason == "dup"

    @pytest.mark.parametrize(
        ("payload", "message"),
        [
            (
                {"playbook": "standard", "by": "d" * 5_000},
                '"by" is 5000 characters; at most 100 are accepted',
            ),
            (
                {"playbook": "standard", "by": ME, "as": "admin"},
                "unknown field 'as' in the route payload; it takes step, by, text, note, "
                "priority, playbook, approve",
            ),
            ({"playbook": ["standard"], "by": ME}, '"playbook" must be text in the route payload'),
            (
                "standard",
                "the route payload must be a JSON object with step, by, text, note, "
                "priority, playbook, approve",
            ),
        ],
        ids=["oversized-by", "unknown-field", "wrong-type", "not-an-object"],
    )
    async def test_a_hostile_route_payload_is_refused_for_good_and_the_case_goes_on(
        self,
        env: WorkflowEnvironment,
        platform: Platform,
        queue: str,
        payload: object,
        message: str,
    ) -> None:
        """A route update is parsed like every other update: bounded, known fields, text only;
        the refusal is final (not retried) and the case can still be routed and closed."""
        key = f"es-hostile-{uuid.uuid4().hex[:6]}"
        async with build_worker(env.client, activities=platform.activities(), task_queue=queue):
            handle = await open_(env, queue, spanish(id=key, thread_id=key), POLICY)
            await until(handle, lambda s: s.status is CaseStatus.AWAITING_ROUTE)
            with pytest.raises(WorkflowUpdateFailedError) as failed:
                await send_update(handle, "route", payload)
            cause = failed.value.cause
            assert isinstance(cause, ApplicationError) and cause.non_retryable
            assert cause.message == message
            await send_update(
                handle, CaseWorkflow.route, SupervisorAction(playbook="standard", by="d" * 100)
            )
            routed = await until(handle, pending("reply_acknowledge"))
            assert routed.route == "routed by " + "d" * 100
            attributes = (await handle.describe()).typed_search_attributes
            assert attributes.get(search.CASE_ROUTE) == routed.route
            await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME))
            final = await finish(env, handle)
            history = await handle.fetch_history()
        assert final.status is CaseStatus.CLOSED
        kinds = {EventType.Name(e.event_type) for e in history.events}
        assert "EVENT_TYPE_WORKFLOW_TASK_FAILED" not in kinds

    async def test_a_case_that_is_not_waiting_to_be_routed_refuses(
        self, env: WorkflowEnvironment, platform: Platform, queue: str
    ) -> None:
        english = spanish(id="en-1", thread_id="en-1", text="@AcmeCares it arrived broken")
        async with build_worker(env.client, activities=platform.activities(), task_queue=queue):
            handle = await open_(env, queue, english, POLICY)
            await until(handle, pending("reply_acknowledge"))
            assert platform.of(registry.NOTIFY) == [], "an English case skips the Spanish desk"
            with pytest.raises(WorkflowUpdateFailedError) as failed:
                await send_update(
                    handle, CaseWorkflow.route, SupervisorAction(playbook="curt", by=ME)
                )
            assert getattr(failed.value.cause, "message", None) == (
                "the case is not waiting to be routed (it is at reply_acknowledge)"
            )
            await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME))
            await finish(env, handle)


async def test_a_supervisor_routes_a_case_from_the_terminal(dev: WorkflowEnvironment) -> None:
    from tests.support.processes import cli

    platform = Platform()
    async with build_worker(dev.client, activities=platform.activities(), task_queue="route"):
        handle = await open_(dev, "route", spanish(id="cli-es", thread_id="cli-es"), POLICY)
        await until(handle, lambda s: s.status is CaseStatus.AWAITING_ROUTE)
        refused = await asyncio.to_thread(
            cli, dev, "route", "case-x-cli-es@reads-english", "curt", "--by", "dana"
        )
        assert refused.returncode == 1
        assert refused.stderr.strip() == (
            "complaintflow route: playbook curt would reply with texts that have no 'es' "
            "version; use one of standard, or answer by hand and close the case"
        )
        routed = await asyncio.to_thread(
            cli, dev, "route", "case-x-cli-es@reads-english", "standard", "--by", "dana"
        )
        assert routed.returncode == 0, routed.stderr
        assert (
            routed.stdout.strip() == "case case-x-cli-es@reads-english routed to standard by dana"
        )
        waiting = await until(handle, pending("reply_acknowledge"))
        assert waiting.pending is not None and waiting.pending.draft.startswith("Lo sentimos")
        await send_update(handle, CaseWorkflow.close, SupervisorAction(by=ME))
        await handle.result()

"""A complaint made only in private is a case answered in that conversation, on real Temporal
(time-skipping server) through the ingest app, the worker's real adapters and the emulator.

An X customer with no case complains by DM: the case opens from the conversation, its
acknowledgement and its handoff are DMs (POST /2/dm_conversations/with/:participant_id/
messages), the handoff counts as offline already, a later DM is that case's contact, and the
hide step has nothing public to tidy. Messenger customers are answered with the Send API
within the window the documentation allows (RESPONSE within 24 hours, the HUMAN_AGENT tag
within 7 days, https://developers.facebook.com/docs/messenger-platform/send-messages/
message-tags); past that the step is refused and escalated to a person, whether the adapter
knows it or only the platform does (code 10, subcode 2018278)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from complaintflow import load_policy
from complaintflow.devkit.emulator import EmulatorState, Post, create_app
from complaintflow.devkit.serve import serving
from complaintflow.ingest.app import Ingest
from complaintflow.ingest.app import create_app as ingest_app
from complaintflow.platforms.http import TIMEOUT
from complaintflow.platforms.meta.emulator import customer_writes
from complaintflow.store import open_store
from complaintflow.store.open import DATABASE_URL
from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.messages import CaseState, CaseStatus, SupervisorAction
from tests.support.cases import Handle, case_handle, pending, send_update, until
from tests.support.paths import EXAMPLE_POLICY
from tests.support.platform import emulated_worker
from tests.support.webhooks import (
    BRAND_X,
    SECRETS,
    feed_comment,
    hex_signature,
    page_delivery,
    x_signature,
)

PAGE = "104000000000001"
COMPLAINT = "Charged twice for order 4411 and nobody answers. Unacceptable, I want a refund now"
DAY = 24 * 3600


def x_dm(message_id: str, sender: str, text: str) -> dict[str, object]:
    """An Account Activity delivery with one `direct_message_events` entry
    (https://docs.x.com/x-api/enterprise/account-activity-api/guides/account-activity-data-objects)."""
    return {
        "for_user_id": BRAND_X,
        "direct_message_events": [
            {
                "type": "message_create",
                "id": message_id,
                "created_timestamp": str(int(time.time() * 1000)),
                "message_create": {
                    "target": {"recipient_id": BRAND_X},
                    "sender_id": sender,
                    "message_data": {"text": text},
                },
            }
        ],
        "users": {sender: {"id": sender, "name": "Jo", "screen_name": "jo"}},
    }


def messenger(mid: str, psid: str, text: str, *, at: float | None) -> dict[str, object]:
    """A Page `messaging` delivery (https://developers.facebook.com/docs/messenger-platform/
    reference/webhook-events/messages); `at` None leaves out `timestamp`."""
    event: dict[str, object] = {
        "sender": {"id": psid},
        "recipient": {"id": PAGE},
        "message": {"mid": mid, "text": text},
    }
    if at is not None:
        event["timestamp"] = int(at * 1000)
    return {"object": "page", "entry": [{"id": PAGE, "time": 1, "messaging": [event]}]}


async def post(http: httpx.AsyncClient, path: str, payload: object) -> httpx.Response:
    body = json.dumps(payload).encode()
    if path == "/webhooks/x":
        headers = {"x-twitter-webhooks-signature": x_signature(body)}
    else:
        headers = {"x-hub-signature-256": hex_signature(body, "meta-secret")}
    answer = await http.post(path, content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer


async def approved(handle: Handle, step: str) -> None:
    await until(handle, pending(step))
    await send_update(handle, CaseWorkflow.approve, SupervisorAction(step=step, by="dana"))


def refused(state: CaseState) -> bool:
    """The reply and the handoff's offer were both refused (and escalated)."""
    return state.escalated and sum(e.what == "step failed" for e in state.audit) == 2


async def test_a_private_complaint_is_answered_in_its_conversation(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    policy = load_policy(EXAMPLE_POLICY)
    emulator = EmulatorState(token="tok", brand_x_id=BRAND_X, brand_page_id=PAGE)
    now = time.time()
    recent, days_ago, too_old, unknown = (
        "24000000000000041",
        "24000000000000042",
        "24000000000000043",
        "24000000000000044",
    )
    customer_writes(emulator, recent, now)
    customer_writes(emulator, days_ago, now - 3 * DAY)
    customer_writes(emulator, too_old, now - 9 * DAY)
    customer_writes(emulator, unknown, now - 2 * DAY)
    async with serving(create_app(emulator)) as platform_url:
        adapters_http = httpx.AsyncClient(timeout=TIMEOUT)
        ingest = Ingest(
            env.client,
            policy,
            task_queue="e2e-private",
            secrets=SECRETS,
            decision_log=tmp_path / "decisions.jsonl",
        )
        async with (
            emulated_worker(
                env.client, "e2e-private", platform_url, tmp_path / "archive", http=adapters_http
            ),
            serving(ingest_app(ingest)) as ingest_url,
            httpx.AsyncClient(base_url=ingest_url) as http,
        ):
            # X: a DM from someone with no case opens one, keyed by the conversation.
            opened = (await post(http, "/webhooks/x", x_dm("9501", "777", COMPLAINT))).json()
            assert opened["contacts"] == [{"id": "9501", "case": None}]
            [case_id] = opened["cases"]
            assert case_id.startswith("case-x-777@")
            x_case = case_handle(env.client, case_id)
            await approved(x_case, "reply_acknowledge")
            await until(x_case, lambda s: s.status is CaseStatus.AWAITING_RESOLUTION)
            later = await post(http, "/webhooks/x", x_dm("9502", "777", "order 4411, card x12"))
            assert later.json()["contacts"] == [{"id": "9502", "case": case_id}]
            await until(x_case, lambda s: len(s.contacts) == 2)
            await send_update(
                x_case, CaseWorkflow.resolve, SupervisorAction(by="dana", note="refunded")
            )
            x_final = await until(x_case, lambda s: s.status is CaseStatus.CLOSED)

            # Messenger: answered within 24 h, with the HUMAN_AGENT tag within 7 days, refused
            # past 7 days by the adapter, and by the platform when only it knows the time.
            cases = {}
            for mid, psid, at in (
                ("m_p1", recent, now),
                ("m_p2", days_ago, now - 3 * DAY),
                ("m_p3", too_old, now - 9 * DAY),
                ("m_p4", unknown, None),
            ):
                answer = await post(http, "/webhooks/meta", messenger(mid, psid, COMPLAINT, at=at))
                [cases[psid]] = answer.json()["cases"]
            handles = {p: case_handle(env.client, c) for p, c in cases.items()}
            for handle in handles.values():
                await approved(handle, "reply_acknowledge")
            await until(handles[recent], lambda s: s.status is CaseStatus.AWAITING_RESOLUTION)
            await until(handles[days_ago], lambda s: s.status is CaseStatus.AWAITING_RESOLUTION)
            adapter_refused = await until(handles[too_old], refused)
            platform_refused = await until(handles[unknown], refused)
        await adapters_http.aclose()

    # X: every answer is a DM in the customer's conversation; nothing public was posted.
    to_777 = [m["text"] for m in emulator.messages if m.get("to") == "777"]
    acknowledge, offer, follow_up = to_777  # the reply, the handoff, the follow-up reply
    assert "Sorry to hear" in acknowledge and x_final.case_id in offer
    assert follow_up.startswith("Thanks for your patience")
    assert not [p for p in emulator.posts.values() if p.author_id == BRAND_X]
    assert [(c.channel, c.text) for c in x_final.contacts] == [
        ("dm", ""),
        ("dm", "order 4411, card x12"),
    ]
    whats = [(e.what, e.detail) for e in x_final.audit]
    assert (
        "already offline",
        "the customer wrote privately: the conversation is their contact",
    ) in whats
    assert (
        "removal refused",
        "the complaint was a private message: there is nothing public to remove",
    ) in whats
    assert x_final.closed_reason == "resolved" and x_final.replies
    # Messenger: the Send API as documented, with the messaging type the window allows.
    sent = {
        (m["to"], m["messaging_type"], m["tag"])
        for m in emulator.messages
        if m["platform"] == "messenger"
    }
    assert (recent, "RESPONSE", "") in sent and (days_ago, "MESSAGE_TAG", "HUMAN_AGENT") in sent
    assert not [s for s in sent if s[0] in (too_old, unknown)]
    # Both the reply and the handoff's offer are refused, each escalated with its reason.
    adapter_reason, _ = [e.detail for e in adapter_refused.audit if e.what == "step failed"]
    assert "within 7 days" in adapter_reason
    platform_reason, _ = [e.detail for e in platform_refused.audit if e.what == "step failed"]
    assert "outside of allowed window" in platform_reason
    assert platform_refused.priority == "high" and not platform_refused.replies


async def test_a_commenters_messages_reach_their_case_by_the_id_the_private_reply_learnt(
    env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A private reply to a comment answers with the commenter's PSID as `recipient_id`
    (https://developers.facebook.com/docs/messenger-platform/discovery/private-replies/):
    the worker keeps it as the case's author, so the customer's Messenger message, which
    comes from that PSID and quotes no reference, is that case's contact."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv(DATABASE_URL, url)  # the worker's store is ingest's
    policy = load_policy(EXAMPLE_POLICY)
    emulator = EmulatorState(token="tok", brand_x_id=BRAND_X, brand_page_id=PAGE)
    emulator.add_post(Post(f"{PAGE}_2", "facebook", PAGE, "Our new sofas are in!"))
    emulator.add_post(Post(f"{PAGE}_2_36", "facebook", "36", COMPLAINT, in_reply_to=f"{PAGE}_2"))
    async with serving(create_app(emulator)) as platform_url:
        adapters_http = httpx.AsyncClient(timeout=TIMEOUT)
        ingest = Ingest(
            env.client, policy, task_queue="e2e-psid", secrets=SECRETS, store=open_store(url)
        )
        async with (
            emulated_worker(
                env.client, "e2e-psid", platform_url, tmp_path / "archive", http=adapters_http
            ),
            serving(ingest_app(ingest)) as ingest_url,
            httpx.AsyncClient(base_url=ingest_url) as http,
        ):
            comment = feed_comment(
                f"{PAGE}_2_36", COMPLAINT, post_id=f"{PAGE}_2", author=("36", "Di")
            )
            opened = await post(http, "/webhooks/meta", page_delivery(PAGE, comment))
            [case_id] = opened.json()["cases"]
            case = case_handle(env.client, case_id)
            await approved(case, "reply_acknowledge")
            await until(case, lambda s: s.status is CaseStatus.AWAITING_CONTACT)
            [private_reply] = [m for m in emulator.messages if m.get("comment_id")]
            psid = "24000000000000036"  # what the emulated private reply answered with
            customer_writes(emulator, psid)
            answer = await post(
                http, "/webhooks/meta", messenger("m_di1", psid, "order 4411", at=time.time())
            )
            assert answer.json()["contacts"] == [{"id": "m_di1", "case": case_id}]
            assert answer.json()["cases"] == []  # not a new private complaint
            contacted = await until(case, lambda s: s.status is CaseStatus.AWAITING_RESOLUTION)
        await adapters_http.aclose()
    assert private_reply["comment_id"] == f"{PAGE}_2_36"
    assert [(c.channel, c.text) for c in contacted.contacts] == [("dm", "order 4411")]

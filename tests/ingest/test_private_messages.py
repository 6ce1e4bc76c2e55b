"""Private messages in: an X direct message from the author of an open case is that case's
contact; one quoting the case's reference finds it from any account; the brand's own messages
never count; a bad entry is skipped with its reason while the batch's good ones are taken.

Payload shape: Account Activity `direct_message_events`
(https://docs.x.com/x-api/enterprise/account-activity-api/guides/account-activity-data-objects),
signed like every Account Activity delivery (x-twitter-webhooks-signature)."""

from __future__ import annotations

import json

import httpx
from temporalio.testing import WorkflowEnvironment

from complaintflow.caseref import case_ref
from complaintflow.ingest.service import Ingest
from complaintflow.workflows.messages import CaseState
from tests.support.cases import case_handle, until
from tests.support.webhooks import (
    BRAND_X,
    feed_comment,
    hex_signature,
    page_delivery,
    post_x,
    x_event,
)

COMPLAINT = "@NorthwindCares charged twice and nobody answers. Unacceptable, refund now"


def dm(message_id: str, sender: str, text: str, **data: object) -> dict[str, object]:
    """One `direct_message_events` entry, as the Account Activity API documents it."""
    return {
        "type": "message_create",
        "id": message_id,
        "created_timestamp": "1764000000000",
        "message_create": {
            "target": {"recipient_id": BRAND_X},
            "sender_id": sender,
            "message_data": {"text": text, "entities": {}, **data},
        },
    }


def dms(*events: object) -> dict[str, object]:
    return {
        "for_user_id": BRAND_X,
        "direct_message_events": list(events),
        "users": {
            "777": {"id": "777", "name": "Jo", "screen_name": "jo"},
            BRAND_X: {"id": BRAND_X, "name": "Northwind", "screen_name": "NorthwindCares"},
        },
    }


async def contacts_of(env: WorkflowEnvironment, case_id: str, n: int) -> CaseState:
    handle = case_handle(env.client, case_id)
    return await until(handle, lambda s: len(s.contacts) >= n)


async def test_a_dm_from_the_author_of_an_open_case_is_its_contact(
    env: WorkflowEnvironment, service: tuple[httpx.AsyncClient, Ingest]
) -> None:
    http, ingest = service
    opened = await post_x(http, x_event("5151", COMPLAINT, user_id="777"))
    [case_id] = opened.json()["cases"]
    answer = await post_x(
        http,
        dms(
            dm("9100", BRAND_X, "Please reply here with your order number."),  # ours
            dm("9101", "777", "Order 4411, charged twice on the 3rd"),
            dm("9102", "888", "hello?"),  # no case of theirs
            dm("9103", "x/../1", "hostile sender id"),
        ),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["contacts"] == [{"id": "9101", "case": case_id}, {"id": "9102", "case": None}]
    # 888 has no case: "hello?" is triaged like a post, below every route (a remark).
    assert body["cases"] == [] and body["logged"] == ["9102"] and body["accepted"] == 1
    [skipped] = body["skipped"]
    assert skipped.startswith("direct_message_events[3].message_create.sender_id")
    state = await contacts_of(env, case_id, 1)
    [contact] = state.contacts
    assert (contact.channel, contact.by, contact.text) == (
        "dm",
        "customer",
        "Order 4411, charged twice on the 3rd",
    )
    assert contact.at == "2025-11-24T16:00:00+00:00" and state.contacted
    assert ingest.skipped_entries == 1


async def test_a_dm_quoting_the_case_reference_finds_it_from_another_account(
    env: WorkflowEnvironment, service: tuple[httpx.AsyncClient, Ingest]
) -> None:
    http, ingest = service
    opened = await post_x(http, x_event("5251", COMPLAINT, user_id="777"))
    [case_id] = opened.json()["cases"]
    ref = case_ref(ingest.policy.brand.name, case_id)
    answer = await post_x(http, dms(dm("9201", "999", f"writing for my dad, ref {ref.lower()}")))
    assert answer.json()["contacts"] == [{"id": "9201", "case": case_id}]
    state = await contacts_of(env, case_id, 1)
    assert state.contacts[0].text == f"writing for my dad, ref {ref.lower()}"


async def test_an_attachment_alone_is_contact_and_a_badly_signed_dm_is_refused(
    env: WorkflowEnvironment, service: tuple[httpx.AsyncClient, Ingest]
) -> None:
    http, _ = service
    opened = await post_x(http, x_event("5301", COMPLAINT, user_id="777"))
    [case_id] = opened.json()["cases"]
    unsigned = await post_x(http, dms(dm("9301", "777", "hi")), signature="sha256=bad")
    assert unsigned.status_code == 401
    assert "x-twitter-webhooks-signature" in unsigned.json()["error"]
    photo = {"attachment": {"type": "media", "media": {"id_str": "1"}}}
    answer = await post_x(http, dms(dm("9302", "777", "", **photo)))
    assert answer.json()["contacts"] == [{"id": "9302", "case": case_id}]
    state = await contacts_of(env, case_id, 1)
    assert [(c.channel, c.text) for c in state.contacts] == [("dm", "")]


PAGE, IG = "104000000000001", "17841400000000001"


async def post_meta(http: httpx.AsyncClient, payload: object) -> httpx.Response:
    body = json.dumps(payload).encode()
    return await http.post(
        "/webhooks/meta",
        content=body,
        headers={"x-hub-signature-256": hex_signature(body, "meta-secret")},
    )


def messaging(sender: str, recipient: str, **event: object) -> dict[str, object]:
    """One `messaging` event (Messenger Platform webhook events; Instagram's are the same
    shape with IGSIDs): https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages"""
    return {
        "sender": {"id": sender},
        "recipient": {"id": recipient},
        "timestamp": 1764000000000,
        **event,
    }


async def test_messenger_and_instagram_messages_find_the_case_they_quote(
    env: WorkflowEnvironment, service: tuple[httpx.AsyncClient, Ingest]
) -> None:
    http, ingest = service
    comment = feed_comment(f"{PAGE}_1_2", COMPLAINT, post_id=f"{PAGE}_1", author=("555", "Jo"))
    opened = await post_meta(http, page_delivery(PAGE, comment))
    [case_id] = opened.json()["cases"]
    ref = case_ref(ingest.policy.brand.name, case_id)
    psid = "24000000000000555"  # Messenger's page-scoped id for the commenter
    events = [
        messaging(psid, PAGE, message={"mid": "m_AAA1", "text": f"hi, my case is {ref}"}),
        messaging(PAGE, psid, message={"mid": "m_AAA2", "text": "Thanks!", "is_echo": True}),
        messaging(psid, PAGE, delivery={"mids": ["m_AAA2"], "watermark": 1764000000000}),
        messaging(psid, PAGE, read={"watermark": 1764000000000}),
        messaging(psid, PAGE, message={"mid": "../../me", "text": "hostile mid"}),
    ]
    answer = await post_meta(
        http, {"object": "page", "entry": [{"id": PAGE, "time": 1, "messaging": events}]}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["contacts"] == [{"id": "m_AAA1", "case": case_id}]
    [skipped] = body["skipped"]
    assert skipped.startswith("entry[0].messaging[4].message.mid")
    state = await contacts_of(env, case_id, 1)
    assert [(c.channel, c.text) for c in state.contacts] == [("dm", f"hi, my case is {ref}")]
    # Instagram Direct: the same shape; an IGSID with no case and no reference matches none.
    direct = await post_meta(
        http,
        {
            "object": "instagram",
            "entry": [
                {
                    "id": IG,
                    "time": 1,
                    "messaging": [messaging("9911", IG, message={"mid": "aWdf1", "text": "hello"})],
                }
            ],
        },
    )
    assert direct.json()["contacts"] == [{"id": "aWdf1", "case": None}]


async def test_a_redelivered_private_message_reaches_its_case_once(
    env: WorkflowEnvironment, service: tuple[httpx.AsyncClient, Ingest]
) -> None:
    """X resends an Account Activity event it got no 200 for; Meta retries for 36 hours: the
    same DM event id or `message.mid` again is answered with its case and not told twice."""
    http, ingest = service
    opened = await post_x(http, x_event("5401", COMPLAINT, user_id="777"))
    [case_id] = opened.json()["cases"]
    first = dms(dm("9401", "777", "Order 4411, charged twice"))
    assert (await post_x(http, first)).json()["contacts"] == [{"id": "9401", "case": case_id}]
    again = (await post_x(http, first)).json()
    assert again["contacts"] == [{"id": "9401", "case": case_id, "redelivered": True}]
    await post_x(http, dms(dm("9402", "777", "any news?")))
    state = await contacts_of(env, case_id, 2)
    assert [c.text for c in state.contacts] == ["Order 4411, charged twice", "any news?"]
    comment = feed_comment(f"{PAGE}_4_1", COMPLAINT, post_id=f"{PAGE}_4", author=("556", "Al"))
    [meta_case] = (await post_meta(http, page_delivery(PAGE, comment))).json()["cases"]
    ref = case_ref(ingest.policy.brand.name, meta_case)
    event = messaging("24000000000000556", PAGE, message={"mid": "m_BBB1", "text": ref})
    delivery = {"object": "page", "entry": [{"id": PAGE, "time": 1, "messaging": [event]}]}
    await post_meta(http, delivery)
    retried = (await post_meta(http, delivery)).json()
    assert retried["contacts"] == [{"id": "m_BBB1", "case": meta_case, "redelivered": True}]
    later = messaging("24000000000000556", PAGE, message={"mid": "m_BBB2", "text": f"{ref}?"})
    await post_meta(
        http, {"object": "page", "entry": [{"id": PAGE, "time": 2, "messaging": [later]}]}
    )
    state = await contacts_of(env, meta_case, 2)
    assert [c.text for c in state.contacts] == [ref, f"{ref}?"]

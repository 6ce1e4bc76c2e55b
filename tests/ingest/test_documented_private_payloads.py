"""Private messages and helpdesk tickets as the documentation shows them: the emulator sends
only documented fields, signed as documented, and ingest reads the documented examples; both
are checked against the pages, never against each other.

- X Account Activity `direct_message_events` (message_create, the `users` map):
  https://docs.x.com/x-api/enterprise/account-activity-api/guides/account-activity-data-objects
  and the message_create object (https://developer.x.com/en/docs/direct-messages/sending-and-
  receiving/guides/message-create-object); signature: "sha256=" + base64 HMAC-SHA256 of the
  body with the consumer secret (https://docs.x.com/x-api/enterprise/account-activity-api/
  guides/securing-webhooks).
- Messenger `messages` events: https://developers.facebook.com/docs/messenger-platform/
  reference/webhook-events/messages (text message; the entry envelope from its attachment
  example); Instagram messaging: https://developers.facebook.com/docs/instagram-platform/
  webhooks/examples ("object": "instagram", entry.id the professional account, IGSID senders).
  Signature: X-Hub-Signature-256 "sha256=" + hex HMAC-SHA256 with the app secret
  (https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads).
- Zendesk: base64(HMACSHA256(TIMESTAMP + BODY)) in X-Zendesk-Webhook-Signature with
  X-Zendesk-Webhook-Signature-Timestamp (https://developer.zendesk.com/documentation/webhooks/
  verifying/); the body is the trigger's JSON with ticket placeholders
  (https://support.zendesk.com/hc/en-us/articles/4408886858138).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.testing import WorkflowEnvironment

from complaintflow import load_policy
from complaintflow.caseref import case_ref
from complaintflow.devkit.deliveries import (
    Outbox,
    Targets,
    meta_message,
    signed_meta,
    signed_x,
    signed_zendesk,
    x_direct_message,
    zendesk_ticket,
)
from complaintflow.devkit.emulator import EmulatorState, create_app
from complaintflow.devkit.serve import serving
from complaintflow.ingest.app import Ingest
from complaintflow.ingest.app import create_app as ingest_app
from complaintflow.ingest.contacts import ZENDESK_SECRET
from complaintflow.platforms.meta.webhooks import from_meta
from complaintflow.platforms.payload import PRIVATE
from complaintflow.platforms.x.webhooks import from_x
from tests.support.paths import EXAMPLE_POLICY
from tests.support.platform import Platform
from tests.support.webhooks import BRAND_X, SECRETS, post_x, x_event

PAGE = "104000000000001"
INSTAGRAM = "17841400000000001"
POLICY = load_policy(EXAMPLE_POLICY)

# The message_create object as the page shows it (its `...` elided media left out).
DOCUMENTED_X_EVENT: dict[str, Any] = {
    "type": "message_create",
    "id": "1234858592",
    "created_timestamp": "1392078023603",
    "initiated_via": {"tweet_id": "123456", "welcome_message_id": "456789"},
    "message_create": {
        "target": {"recipient_id": BRAND_X},
        "sender_id": "3805104374",
        "source_app_id": "268278",
        "message_data": {
            "text": "Blue Bird",
            "entities": {"hashtags": [], "symbols": [], "urls": [], "user_mentions": []},
            "quick_reply_response": {"type": "options", "metadata": "external_id_2"},
            "attachment": {"type": "media", "media": {}},
        },
    },
}
# A user of the delivery's `users` map (account-activity-data-objects, direct_message_events).
DOCUMENTED_X_USER: dict[str, Any] = {
    "id": "3805104374",
    "created_timestamp": "1422556069340",
    "name": "Blue Bird",
    "screen_name": "bluebird",
    "location": "",
    "description": "",
    "protected": False,
    "verified": False,
    "followers_count": 1,
    "friends_count": 1,
    "statuses_count": 1,
    "profile_image_url": "",
    "profile_image_url_https": "",
}
DOCUMENTED_X = {
    "for_user_id": BRAND_X,
    "direct_message_events": [DOCUMENTED_X_EVENT],
    "users": {"3805104374": DOCUMENTED_X_USER},
}
# The text message example inside the entry envelope of the page's attachment example.
DOCUMENTED_MESSENGER: dict[str, Any] = {
    "object": "page",
    "entry": [
        {
            "id": PAGE,
            "time": 1518479195594,
            "messaging": [
                {
                    "sender": {"id": "24000000000000031"},
                    "recipient": {"id": PAGE},
                    "timestamp": 1458692752478,
                    "message": {
                        "mid": "mid.1457764197618:41d102a3e1ae206a38",
                        "text": "hello, world!",
                        "quick_reply": {"payload": "DEVELOPER_DEFINED_PAYLOAD"},
                    },
                }
            ],
        }
    ],
}
DOCUMENTED_INSTAGRAM: dict[str, Any] = {
    "object": "instagram",
    "entry": [
        {
            "id": INSTAGRAM,
            "time": 1518479195594,
            "messaging": [
                {
                    "sender": {"id": "1780000000000042"},
                    "recipient": {"id": INSTAGRAM},
                    "timestamp": 1458692752478,
                    "message": {"mid": "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQx", "text": "hi"},
                }
            ],
        }
    ],
}
# The trigger body the contacts webhook documents, placeholders filled in as Zendesk does.
DOCUMENTED_ZENDESK = {
    "ticket": {"id": "7001", "external_id": "", "subject": "Re: sofa", "comment": "Still no refund"}
}


def shape(value: Any) -> Any:
    """The structure of a JSON value: objects by key, a list by its first item, else a type."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def undocumented(sent: Any, documented: Any, where: str = "") -> list[str]:
    """The paths in `sent` the documented example has not, or has with another type."""
    if isinstance(sent, dict) and isinstance(documented, dict):
        return [
            problem
            for key, item in sent.items()
            for problem in (
                [f"{where}.{key}: not documented"]
                if key not in documented
                else undocumented(item, documented[key], f"{where}.{key}")
            )
        ]
    if isinstance(sent, list) and isinstance(documented, list):
        return undocumented(sent[0], documented[0], f"{where}[0]") if sent and documented else []
    return [] if sent == documented else [f"{where}: {sent}, documented {documented}"]


class TestTheEmulatorSendsWhatIsDocumented:
    def test_an_x_direct_message_delivery(self) -> None:
        """Every field of the emulator's DM delivery is in the documented event or user."""
        sent = x_direct_message(
            brand_id=BRAND_X, sender_id="777", event_id="9001", text="order 4411", at=1.7e9
        )
        users = sent.pop("users")
        documented = {**DOCUMENTED_X}
        documented.pop("users")
        assert undocumented(shape(sent), shape(documented)) == []
        assert set(users) == {"777", BRAND_X}
        for user in users.values():
            assert undocumented(shape(user), shape(DOCUMENTED_X_USER)) == []
        [event] = sent["direct_message_events"]
        assert event["created_timestamp"] == "1700000000000"  # milliseconds, as text
        assert event["message_create"]["target"] == {"recipient_id": BRAND_X}

    @pytest.mark.parametrize(
        ("platform", "account", "documented"),
        [("facebook", PAGE, DOCUMENTED_MESSENGER), ("instagram", INSTAGRAM, DOCUMENTED_INSTAGRAM)],
    )
    def test_a_messenger_or_instagram_message_delivery(
        self, platform: str, account: str, documented: dict[str, Any]
    ) -> None:
        sent = meta_message(
            platform=platform, account_id=account, sender_id="31", mid="m_1", text="hi", at=1.7e9
        )
        assert undocumented(shape(sent), shape(documented)) == []
        assert sent["object"] == documented["object"]
        [event] = sent["entry"][0]["messaging"]
        assert event["recipient"] == {"id": account} and event["timestamp"] == 1_700_000_000_000

    def test_a_zendesk_ticket_delivery(self) -> None:
        ticket = {"id": 12, "subject": "Case NH-ABC123", "comment": {"body": "late"}}
        sent = zendesk_ticket(ticket)
        assert undocumented(shape(sent), shape(DOCUMENTED_ZENDESK)) == []
        assert sent["ticket"] == {
            "id": "12",
            "external_id": "",
            "subject": "Case NH-ABC123",
            "comment": "late",
        }


class TestSignaturesAreTheDocumentedOnes:
    """Each computed here from the documented recipe, not with the project's helpers."""

    def test_x(self) -> None:
        delivery = signed_x(DOCUMENTED_X, "consumer")
        digest = hmac.new(b"consumer", delivery.body, hashlib.sha256).digest()
        expected = "sha256=" + base64.b64encode(digest).decode()
        assert delivery.headers == {"x-twitter-webhooks-signature": expected}

    def test_meta(self) -> None:
        delivery = signed_meta(DOCUMENTED_MESSENGER, "app-secret")
        expected = "sha256=" + hmac.new(b"app-secret", delivery.body, hashlib.sha256).hexdigest()
        assert delivery.headers == {"X-Hub-Signature-256": expected}

    def test_zendesk(self) -> None:
        delivery = signed_zendesk(DOCUMENTED_ZENDESK, "zd", at=1_764_756_000)
        stamp = delivery.headers["X-Zendesk-Webhook-Signature-Timestamp"]
        assert stamp == "2025-12-03T10:00:00Z"
        digest = hmac.new(b"zd", stamp.encode() + delivery.body, hashlib.sha256).digest()
        assert delivery.headers["X-Zendesk-Webhook-Signature"] == base64.b64encode(digest).decode()


class TestIngestReadsTheDocumentedExamples:
    def test_an_x_direct_message(self) -> None:
        [message] = from_x(DOCUMENTED_X, POLICY)
        assert (message.kind, message.id, message.text) == (PRIVATE, "1234858592", "Blue Bird")
        assert (message.author.id, message.author.handle) == ("3805104374", "bluebird")
        assert message.created_at == "2014-02-11T00:20:23+00:00"

    @pytest.mark.parametrize("documented", [DOCUMENTED_MESSENGER, DOCUMENTED_INSTAGRAM])
    def test_a_messenger_or_instagram_message(self, documented: dict[str, Any]) -> None:
        [message] = from_meta(documented, POLICY)
        event = documented["entry"][0]["messaging"][0]
        assert message.kind == PRIVATE
        assert (message.id, message.text) == (event["message"]["mid"], event["message"]["text"])
        assert message.author.id == event["sender"]["id"]
        platform = "instagram" if documented["object"] == "instagram" else "facebook"
        assert message.platform == platform


# -- the emulator delivering to a real ingest, on loopback ------------------------------------


@dataclasses.dataclass
class Stack:
    http: httpx.AsyncClient  # to ingest
    emulator: httpx.AsyncClient  # to the emulator's control routes
    outbox: Outbox


@pytest_asyncio.fixture
async def stack(
    env: WorkflowEnvironment, platform: Platform, queue: str, tmp_path: Path
) -> AsyncIterator[Stack]:
    keys = dataclasses.replace(SECRETS, others={ZENDESK_SECRET: "zd-secret"})
    ingest = Ingest(
        env.client, POLICY, task_queue=queue, secrets=keys, decision_log=tmp_path / "d.jsonl"
    )
    state = EmulatorState(token="tok", brand_x_id=BRAND_X, brand_page_id=PAGE)
    async with (
        platform.worker(env.client, queue),
        serving(ingest_app(ingest)) as ingest_url,
        httpx.AsyncClient(base_url=ingest_url) as http,
    ):
        targets = Targets(
            ingest_url=ingest_url,
            x_consumer_secret=keys.x_consumer_secret,
            meta_app_secret=keys.meta_app_secret,
            zendesk_secret="zd-secret",
            x_user_id=BRAND_X,
            page_id=PAGE,
            instagram_id=INSTAGRAM,
        )
        outbox = Outbox(state, targets)
        async with (
            serving(create_app(state, outbox=outbox)) as emulator_url,
            httpx.AsyncClient(base_url=emulator_url) as emulator,
        ):
            yield Stack(http, emulator, outbox)
            outbox.cancel()


COMPLAINT = "@NorthwindCares charged twice and nobody answers. Unacceptable, refund now"


async def test_the_emulators_dm_and_email_reach_the_case_through_ingest(stack: Stack) -> None:
    """A customer answers by X DM, another by email to the helpdesk (quoting the reference),
    a third writes privately with no case: ingest takes each signed delivery."""
    opened = await post_x(stack.http, x_event("5101", COMPLAINT, user_id="777"))
    other = await post_x(stack.http, x_event("5102", COMPLAINT, user_id="778"))
    [by_dm], [by_email] = opened.json()["cases"], other.json()["cases"]
    ref = case_ref(POLICY.brand.name, by_email)
    stack.outbox.message("x", "777", "order 4411, charged twice")
    stack.outbox.email("jo@mail.example", f"Case {ref}", "Still waiting for the refund")
    stack.outbox.message("x", "779", "I never posted, but my refund is late")
    delivered = sorted(await stack.outbox.drain(), key=lambda d: d.sender)
    assert [(d.channel, d.status, d.cases) for d in delivered] == [
        ("x", 200, [by_dm]),
        ("x", 200, [None]),
        ("email", 200, [by_email]),
    ]


async def test_a_customer_writes_later_through_the_control_route(stack: Stack) -> None:
    opened = await post_x(stack.http, x_event("5201", COMPLAINT, user_id="777"))
    [case_id] = opened.json()["cases"]
    asked = {"channel": "x", "sender": "777", "text": "here is my order", "after": 0.2}
    answer = await stack.emulator.post("/_emulator/deliveries", json=asked)
    assert answer.status_code == 202, answer.text
    [delivered] = await stack.outbox.drain()
    assert delivered.cases == [case_id]
    shown = (await stack.emulator.get("/_emulator/deliveries")).json()["delivered"]
    assert [c["case"] for c in shown[0]["answer"]["contacts"]] == [case_id]
    state = (await stack.emulator.get("/_emulator/state")).json()
    assert {"platform": "x", "sender": "777", "to": BRAND_X}.items() <= state["messages"][0].items()


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    body=st.dictionaries(
        st.sampled_from(["channel", "sender", "text", "after", "subject"]),
        st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.none(), st.booleans()),
    )
)
async def test_a_bad_control_request_is_a_400_with_the_reason(body: dict[str, Any]) -> None:
    """Generated bodies: a 202 only for a well-formed request, else a 400 saying what."""
    state = EmulatorState(token="tok", brand_x_id=BRAND_X, brand_page_id=PAGE)
    outbox = Outbox(state, Targets(ingest_url="http://127.0.0.1:9"))  # nothing listens
    app = create_app(state, outbox=outbox)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as http:
        answer = await http.post("/_emulator/deliveries", content=json.dumps(body).encode())
    outbox.cancel()
    good = (
        body.get("channel") in ("x", "facebook", "instagram", "email")
        and isinstance(body.get("sender"), str)
        and 0 < len(body["sender"]) <= 200
        and isinstance(body.get("text", ""), str)
        and isinstance(body.get("after", 0), int | float)
        and not isinstance(body.get("after", 0), bool)
        and 0 <= body.get("after", 0) < 1e6
    )
    assert answer.status_code == (202 if good else 400), (body, answer.text)
    if not good:
        assert answer.json()["error"]["message"]


async def test_an_emulator_without_ingest_says_so() -> None:
    app = create_app(EmulatorState(token="t", brand_x_id=BRAND_X, brand_page_id=PAGE))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as http:
        answer = await http.post("/_emulator/deliveries", json={"channel": "x", "sender": "1"})
    assert answer.status_code == 409 and "without ingest" in answer.json()["error"]["message"]


async def test_a_customer_who_wrote_on_messenger_can_be_answered_there(stack: Stack) -> None:
    """Their message opens the Send API's 24-hour window (RESPONSE); a stranger's is refused
    (https://developers.facebook.com/docs/messenger-platform/send-messages#messaging_types)."""
    stack.outbox.message("facebook", "2400000000000777", "my order never came")
    await stack.outbox.drain()

    async def answer(psid: str) -> httpx.Response:
        return await stack.emulator.post(
            f"/graph/{PAGE}/messages",
            json={
                "recipient": {"id": psid},
                "messaging_type": "RESPONSE",
                "message": {"text": "Sorry to hear that, we are on it"},
            },
            headers={"authorization": "Bearer tok"},
        )

    assert (await answer("2400000000000777")).status_code == 200
    assert (await answer("2400000000000999")).status_code == 400

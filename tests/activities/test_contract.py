"""Every request the adapters make matches its documented shape (tests/activities/contracts.py)."""

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from complaintflow.activities.operations import Operations, OperationsConfig
from complaintflow.activities.platforms import Platforms
from complaintflow.cli.operators.connect import diagnose
from complaintflow.devkit.emulator import EmulatorState, Post, create_app
from complaintflow.devkit.serve import serving
from complaintflow.devkit.stack import connect_emulated_x
from complaintflow.platforms.credentials import TokenStore
from complaintflow.workflows.messages import ActionRequest, PollRequest
from tests.support.adapters import BRAND_X, PAGE, emulated_endpoints, meta_of, x_of
from tests.support.contracts import CONTRACTS, violations

REVIEW = "accounts/1/locations/2/reviews/Rv_9"


def action(platform: str, mention: str, **changes: Any) -> ActionRequest:
    values: dict[str, Any] = {
        "case_id": "c",
        "step_id": "s",
        "kind": "reply",
        "platform": platform,
        "thread_id": mention,
        "mention_id": mention,
        "author_id": "777",
        "text": "Sorry about this.",
        "key": "c/s",
        "account_id": BRAND_X if platform == "x" else PAGE,
    }
    values.update(changes)
    return ActionRequest(**values)


@pytest_asyncio.fixture
async def recorded(tmp_path: Path) -> AsyncIterator[EmulatorState]:
    """Every adapter action once, and again as a retry (which looks before it acts)."""
    state = EmulatorState(token="t0k", brand_x_id=BRAND_X, brand_page_id=PAGE)
    state.add_post(Post("1001", "x", "777", "@brand late again"))
    state.add_post(Post("1002", "x", BRAND_X, "Our post"))
    state.add_post(Post("1003", "x", "777", "@brand still late", in_reply_to="1002"))
    state.add_post(Post("104_55", "facebook", "888", "Wrong item"))
    state.add_post(Post("104_56", "facebook", "888", "Also wrong"))
    state.add_post(Post("17900001", "instagram", "999", "broken"))
    state.add_post(Post("17900002", "instagram", "999", "broken too"))
    state.add_post(Post(REVIEW, "google_business", "555", "1 star"))
    state.customer_wrote["2409"] = time.time()  # a customer who wrote in private just now
    async with serving(create_app(state)) as url:
        http = httpx.AsyncClient(timeout=5.0)
        endpoints = emulated_endpoints(url, tmp_path)
        store = TokenStore(endpoints.token_store)
        connect_emulated_x(store, "t0k")
        platforms = Platforms(endpoints, client=http, store=store)
        for _ in range(2):  # outside an activity every call looks first, as a retry does
            await platforms.reply(action("x", "1001"))
            await platforms.private_message(action("x", "1001", text="DM us"))
            await platforms.remove(action("x", "1003", action="hide"))
            for platform, ids in (("facebook", "104"), ("instagram", "179")):
                first, second = sorted(p for p in state.posts if p.startswith(ids))[:2]
                await platforms.reply(action(platform, first))
                await platforms.private_message(action(platform, first, text="DM us"))
                await platforms.remove(action(platform, first, action="hide"))
                await platforms.remove(action(platform, second, action="delete"))
            await platforms.reply(action("google_business", REVIEW))
            await platforms.reply(action("facebook", "m_9", author_id="2409", conversation=True))
        await x_of(platforms).poll_mentions(PollRequest(BRAND_X))
        await x_of(platforms).check()
        await meta_of(platforms).check()
        operations = Operations(
            OperationsConfig(
                slack_webhook_url=f"{url}/slack/T0/B0/X",
                slack_bot_token="",
                zendesk_url=f"{url}/zendesk",
                zendesk_email="care@example",
                zendesk_token="t0k",
                archive_dir=tmp_path,
            ),
            client=http,
        )
        bot = Operations(
            OperationsConfig(slack_bot_token="t0k", slack_api_url=f"{url}/slack/api"),
            client=http,
        )
        await operations.notify(action("x", "1001", via="slack", target="#care"))
        await bot.notify(action("x", "1001", via="slack", target="#care"))
        await operations.open_ticket(action("x", "1001", target="zendesk"))
        checked = await diagnose(endpoints, bot.config)  # complaintflow doctor's calls
        assert [ok for _, ok, _ in checked] == [True, True, True, True], checked
        await http.aclose()
        yield state


async def test_every_adapter_request_has_its_documented_shape(recorded: EmulatorState) -> None:
    assert len(recorded.requests) > 30
    problems = [problem for request in recorded.requests for problem in violations(request)]
    assert problems == []


async def test_every_documented_endpoint_is_exercised(recorded: EmulatorState) -> None:
    import re

    used = {
        (c.method, c.path)
        for c in CONTRACTS
        for r in recorded.requests
        if r["method"] == c.method and re.fullmatch(c.path, r["path"])
    }
    assert {(c.method, c.path) for c in CONTRACTS} - used == set()


@pytest.mark.parametrize(
    ("request_", "complaint"),
    [
        (  # Graph's field name on X
            {
                "method": "POST",
                "path": "/x/2/tweets",
                "query": {},
                "body": {"message": "hi", "reply": {}},
                "auth": "x-user",
                "content_type": "application/json",
            },
            "body field 'message' is not documented",
        ),
        (  # an app-only bearer for a write
            {
                "method": "POST",
                "path": "/x/2/tweets",
                "query": {},
                "body": {"text": "hi", "reply": {}},
                "auth": "app",
                "content_type": "application/json",
            },
            "auth app",
        ),
        (  # a made-up field in tweet.fields
            {
                "method": "GET",
                "path": "/x/2/users/15/mentions",
                "query": {"tweet.fields": "author"},
                "body": None,
                "auth": "app",
                "content_type": "",
            },
            "tweet.fields value 'author'",
        ),
        (  # an id that is not an id
            {
                "method": "DELETE",
                "path": "/graph/104_55/../1",
                "query": {},
                "body": None,
                "auth": "app",
                "content_type": "",
            },
            "no documented endpoint",
        ),
    ],
)
def test_a_departure_from_the_contract_is_named(
    request_: dict[str, object], complaint: str
) -> None:
    assert any(complaint in problem for problem in violations(request_))


async def test_answers_in_a_private_conversation_have_the_send_api_shape(
    tmp_path: Path,
) -> None:
    """The Send API as documented (https://developers.facebook.com/docs/messenger-platform/
    reference/send-api/): {recipient: {id: PSID}, messaging_type: RESPONSE, message: {text}}
    within 24 hours of the customer's last message; MESSAGE_TAG with tag HUMAN_AGENT within 7
    days (https://developers.facebook.com/docs/messenger-platform/send-messages/message-tags);
    past that nothing is sent and the refusal says why. X answers by DM to the participant
    (https://docs.x.com/x-api/direct-messages/create-dm-message-by-participant-id). A private
    reply answers with the commenter's PSID as recipient_id (messenger-platform/discovery/
    private-replies)."""
    from datetime import UTC, datetime, timedelta

    from complaintflow.errors import PlatformError
    from complaintflow.platforms.meta.emulator import customer_writes

    state = EmulatorState(token="t0k", brand_x_id=BRAND_X, brand_page_id=PAGE)
    state.add_post(Post("104_57", "facebook", "889", "Wrong item"))
    now = time.time()
    customer_writes(state, "2401", now - 3600)
    customer_writes(state, "2402", now - 3 * 86400)

    def wrote(seconds_ago: float) -> str:
        return (datetime.now(UTC) - timedelta(seconds=seconds_ago)).isoformat()

    async with serving(create_app(state)) as url:
        http = httpx.AsyncClient(timeout=5.0)
        endpoints = emulated_endpoints(url, tmp_path)
        store = TokenStore(endpoints.token_store)
        connect_emulated_x(store, "t0k")
        platforms = Platforms(endpoints, client=http, store=store)
        talk = {"conversation": True}
        within = await platforms.reply(
            action("facebook", "m_1", author_id="2401", customer_wrote_at=wrote(3600), **talk)
        )
        tagged = await platforms.private_message(
            action("instagram", "m_2", author_id="2402", customer_wrote_at=wrote(3 * 86400), **talk)
        )
        with pytest.raises(PlatformError, match="within 7 days") as refused:
            await platforms.reply(
                action(
                    "facebook", "m_3", author_id="2402", customer_wrote_at=wrote(8 * 86400), **talk
                )
            )
        assert not refused.value.retryable
        again = await platforms.reply(  # a retry looks through the Conversations API first
            action("facebook", "m_1", author_id="2401", customer_wrote_at=wrote(3600), **talk)
        )
        assert (again.ref, again.detail) == (within.ref, "already sent")
        dm = await platforms.reply(action("x", "9501", author_id="777", **talk))
        private_reply = await platforms.private_message(action("facebook", "104_57"))
        await http.aclose()
    sends = [r for r in state.requests if r["path"] == f"/graph/{PAGE}/messages"]
    assert [r["body"] for r in sends[:2]] == [
        {
            "recipient": {"id": "2401"},
            "message": {"text": "Sorry about this."},
            "messaging_type": "RESPONSE",
        },
        {
            "recipient": {"id": "2402"},
            "message": {"text": "Sorry about this."},
            "messaging_type": "MESSAGE_TAG",
            "tag": "HUMAN_AGENT",
        },
    ]
    assert within.ref.startswith("m_") and tagged.recipient == "2402"
    assert private_reply.recipient == "24000000000000889"  # the PSID, not the comment's from.id
    assert dm.ref and [m["to"] for m in state.messages if m["platform"] == "x"] == ["777"]
    problems = [problem for request in state.requests for problem in violations(request)]
    assert problems == []


async def test_the_emulator_refuses_a_message_outside_the_documented_window(
    tmp_path: Path,
) -> None:
    """Code 10, subcode 2018278, "This message is sent outside of allowed window"
    (https://developers.facebook.com/docs/messenger-platform/reference/send-api/error-codes):
    RESPONSE past 24 hours, HUMAN_AGENT past 7 days; a recipient who never wrote: code 100,
    subcode 2018001, "No matching user found"."""

    from complaintflow.platforms.meta.emulator import customer_writes

    state = EmulatorState(token="t0k", brand_x_id=BRAND_X, brand_page_id=PAGE)
    customer_writes(state, "2403", time.time() - 2 * 86400)
    customer_writes(state, "2404", time.time() - 8 * 86400)
    async with serving(create_app(state)) as url, httpx.AsyncClient(base_url=url) as http:

        async def send(user: str, **kind: str) -> tuple[int, int]:
            answer = await http.post(
                f"/graph/{PAGE}/messages",
                json={"recipient": {"id": user}, "message": {"text": "hi"}, **kind},
                headers={"authorization": "Bearer t0k"},
            )
            error = answer.json().get("error", {})
            return error.get("code", 0), error.get("error_subcode", 0)

        assert await send("2403", messaging_type="RESPONSE") == (10, 2018278)
        assert await send("2403", messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT") == (0, 0)
        assert await send("2404", messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT") == (10, 2018278)
        assert await send("2499", messaging_type="RESPONSE") == (100, 2018001)

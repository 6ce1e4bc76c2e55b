"""Every request the adapters make matches its documented shape (tests/activities/contracts.py)."""

from collections.abc import AsyncIterator
from pathlib import Path

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


def action(platform: str, mention: str, **changes: str) -> ActionRequest:
    values = {
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

"""The emulator behaves as the platforms document, and the adapters cope with each behaviour.

Each test names the behaviour; the emulator's handlers cite the documentation page.
"""

import base64
import hashlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import pytest_asyncio
from hypothesis import given
from hypothesis import strategies as st
from temporalio.exceptions import ApplicationError

from complaintflow import load_policy
from complaintflow.activities.platforms import Platforms
from complaintflow.devkit.emulator import X_CLIENT_ID, EmulatorState, Fault, Post, create_app
from complaintflow.devkit.serve import serving
from complaintflow.devkit.stack import connect_emulated_x
from complaintflow.errors import PlatformError
from complaintflow.platforms.credentials import TokenStore
from complaintflow.platforms.facts import SPECS, BadId, checked_id
from complaintflow.platforms.http import RATE_LIMITED_ATTEMPTS
from complaintflow.platforms.x.webhooks import from_x
from complaintflow.workflows import registry
from complaintflow.workflows.messages import PollRequest
from tests.support.adapters import (
    BRAND_X,
    PAGE,
    activity_name,
    attempt,
    emulated_endpoints,
    replies,
    request,
    x_of,
)
from tests.support.paths import EXAMPLE_POLICY

World = tuple[EmulatorState, Platforms, str]


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    state = EmulatorState(token="t0k", brand_x_id=BRAND_X, brand_page_id=PAGE)
    state.add_post(Post("1001", "x", "777", "@NorthwindCares my order never arrived"))
    state.add_post(Post("104_55", "facebook", "888", "Wrong item delivered!"))
    state.add_post(Post("17900001", "instagram", "999", "missing screws"))
    async with serving(create_app(state)) as url:
        endpoints = emulated_endpoints(url, tmp_path)
        store = TokenStore(endpoints.token_store)
        connect_emulated_x(store, "t0k")
        platforms = Platforms(endpoints, client=httpx.AsyncClient(timeout=5.0), store=store)
        yield state, platforms, url
        await platforms.client.aclose()


class TestXAuth:
    async def test_an_app_only_bearer_may_read_but_not_post(self, world: World) -> None:
        _, platforms, url = world
        app = {"Authorization": "Bearer t0k"}
        read = await platforms.client.get(f"{url}/x/2/users/{BRAND_X}/mentions", headers=app)
        write = await platforms.client.post(
            f"{url}/x/2/tweets", headers=app, json={"text": "hello"}
        )
        assert read.status_code == 200
        assert write.status_code == 403
        assert write.json()["title"] == "Unsupported Authentication"

    async def test_pkce_authorisation_code_flow(self, world: World) -> None:
        _, platforms, url = world
        verifier = "v" * 64
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        consent = await platforms.client.get(
            f"{url}/x/i/oauth2/authorize",
            params={
                "response_type": "code",
                "client_id": X_CLIENT_ID,
                "redirect_uri": "http://127.0.0.1:9/cb",
                "scope": "tweet.read tweet.write users.read offline.access",
                "state": "s1",
                "code_challenge": challenge.decode().rstrip("="),
                "code_challenge_method": "S256",
            },
        )
        assert consent.status_code == 302
        query = parse_qs(urlparse(consent.headers["location"]).query)
        assert query["state"] == ["s1"]
        form = {
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": "http://127.0.0.1:9/cb",
            "client_id": X_CLIENT_ID,
        }
        wrong = await platforms.client.post(
            f"{url}/x/2/oauth2/token", data={**form, "code_verifier": "w" * 64}
        )
        assert wrong.status_code == 400, "a wrong verifier is refused (and spends the code)"

    async def test_user_tokens_expire_and_refresh_tokens_rotate(self, world: World) -> None:
        state, platforms, url = world
        state.user_token_lifetime = 1.0
        tokens = x_of(platforms).user_tokens
        assert tokens is not None and platforms.store is not None
        spent = platforms.store.load("x").refresh_token  # type: ignore[union-attr]
        first = await tokens.get()  # spends it: refresh tokens rotate
        assert (await x_of(platforms).check()).startswith("@")
        time.sleep(1.1)
        expired = await platforms.client.get(
            f"{url}/x/2/users/me", headers={"Authorization": f"Bearer {first}"}
        )
        assert expired.status_code == 401
        again = await platforms.client.post(
            f"{url}/x/2/oauth2/token",
            data={"grant_type": "refresh_token", "refresh_token": spent, "client_id": X_CLIENT_ID},
        )
        assert again.status_code == 400, "a spent refresh token is refused"
        # The adapter refreshes on its own with the newest refresh token and carries on.
        await platforms.reply(request("x", "1001"))
        assert len(replies(state, "1001")) == 1
        assert state.refreshes == 2 and state.refused_refreshes == 1

    async def test_a_refused_token_is_refreshed_once_and_the_call_repeated(
        self, world: World
    ) -> None:
        state, platforms, _ = world
        await x_of(platforms).check()
        state.access_tokens.clear()  # revoked on the platform's side
        await platforms.private_message(request("x", "1001", text="Please DM us"))
        assert [m["text"] for m in state.messages] == ["Please DM us"]

    async def test_a_401_right_after_a_refresh_is_retried_a_bounded_number_of_times(
        self, world: World
    ) -> None:
        state, platforms, _ = world
        state.faults.append(Fault(route="x.me", status=401, times=2))
        with pytest.raises(PlatformError) as refused:
            await x_of(platforms).check()
        assert refused.value.retryable and refused.value.retry_after == 1.0
        assert "just-refreshed" in str(refused.value)
        assert (await x_of(platforms).check()).startswith("@"), "the next attempt goes through"


class TestXReads:
    async def test_default_fields_carry_no_author(self, world: World) -> None:
        _, platforms, url = world
        answer = await platforms.client.get(
            f"{url}/x/2/users/{BRAND_X}/mentions", headers={"Authorization": "Bearer t0k"}
        )
        (post,) = answer.json()["data"]
        assert set(post) == {"id", "text", "edit_history_tweet_ids"}

    async def test_the_poll_reads_every_page_with_authors_and_skips_retweets(
        self, world: World
    ) -> None:
        state, platforms, _ = world
        for n in range(250):
            state.add_post(Post(str(2000 + n), "x", str(500 + n % 7), f"@brand problem {n}"))
        state.add_post(Post("3000", "x", "888", "RT @x: problem", references="retweeted"))
        page = await x_of(platforms).poll_mentions(PollRequest(BRAND_X))
        ids = [m.id for m in page.mentions]
        assert len(ids) == 251 and "3000" not in ids, "three pages, no retweet"
        assert ids == sorted(ids, key=int), "oldest first"
        assert page.newest_id == "3000"
        assert all(m.author.id and m.author.handle for m in page.mentions)
        assert {m.author.id for m in page.mentions} >= {"500", "506"}

    async def test_a_429_waits_for_the_reset_named_in_the_headers(self, world: World) -> None:
        state, platforms, url = world
        state.faults.append(Fault(route="x.mentions", status=429, retry_after=40, times=1))
        answer = await platforms.client.get(
            f"{url}/x/2/users/{BRAND_X}/mentions", headers={"Authorization": "Bearer t0k"}
        )
        assert answer.status_code == 429 and "retry-after" not in answer.headers
        assert int(answer.headers["x-rate-limit-reset"]) >= time.time() + 38
        state.faults.append(Fault(route="x.mentions", status=429, retry_after=40, times=1))
        with pytest.raises(PlatformError) as limited:
            await x_of(platforms).poll_mentions(PollRequest(BRAND_X))
        assert limited.value.retryable
        assert limited.value.retry_after == pytest.approx(40, abs=2)

    async def test_rate_limited_retries_stop_after_a_bound(self, world: World) -> None:
        state, platforms, _ = world
        reply = next(a for a in platforms.activities() if activity_name(a) == registry.POST_REPLY)
        state.faults.append(Fault(route="x.user_tweets", status=429, retry_after=5, times=2))
        with pytest.raises(ApplicationError) as early:
            await attempt(2).run(reply, request("x", "1001"))
        assert not early.value.non_retryable
        with pytest.raises(ApplicationError) as late:
            await attempt(RATE_LIMITED_ATTEMPTS).run(reply, request("x", "1001"))
        assert late.value.non_retryable and "still rate-limited" in str(late.value)


class TestGraph:
    @pytest.mark.parametrize("code", [4, 17, 32, 613, 80001, 80014])
    async def test_throttling_inside_a_400_is_retried_after_a_wait(
        self, world: World, code: int
    ) -> None:
        state, platforms, _ = world
        state.faults.append(Fault(route="graph.comment", status=400, code=code, times=1))
        with pytest.raises(PlatformError) as throttled:
            await platforms.reply(request("facebook", "104_55"))
        assert throttled.value.status == 400
        assert throttled.value.retryable and throttled.value.retry_after == 60

    async def test_other_400s_stay_permanent(self, world: World) -> None:
        state, platforms, _ = world
        state.faults.append(Fault(route="graph.comment", status=400, code=100, times=1))
        with pytest.raises(PlatformError) as refused:
            await platforms.reply(request("facebook", "104_55"))
        assert not refused.value.retryable

    async def test_deleting_what_is_gone_is_code_100_subcode_33(self, world: World) -> None:
        _, platforms, url = world
        first = await platforms.client.delete(
            f"{url}/graph/104_55", headers={"Authorization": "Bearer t0k"}
        )
        second = await platforms.client.delete(
            f"{url}/graph/104_55", headers={"Authorization": "Bearer t0k"}
        )
        assert first.status_code == 200
        assert second.status_code == 400
        assert (second.json()["error"]["code"], second.json()["error"]["error_subcode"]) == (
            100,
            33,
        )
        done = await platforms.remove(request("facebook", "104_55", action="delete"))
        assert done.detail == "already deleted"

    async def test_a_retry_finds_its_reply_under_a_busy_comment(self, world: World) -> None:
        state, platforms, _ = world
        for n in range(120):  # a busy thread: more comments than a page holds
            state.add_post(
                Post(f"104_55_{n}", "facebook", str(900 + n), "same!", in_reply_to="104_55")
            )
        await platforms.reply(request("facebook", "104_55"))
        again = await platforms.reply(request("facebook", "104_55"))
        assert again.detail == "already replied"
        assert len([p for p in replies(state, "104_55") if p.author_id == PAGE]) == 1

    async def test_instagram_comments_say_text_and_from_only_when_asked(self, world: World) -> None:
        state, platforms, url = world
        await platforms.reply(request("instagram", "17900001", text="So sorry!"))
        page = {"Authorization": "Bearer t0k"}
        plain = await platforms.client.get(f"{url}/graph/17900001/replies", headers=page)
        (comment,) = plain.json()["data"]
        assert "text" in comment and "message" not in comment and "from" not in comment
        asked = await platforms.client.get(
            f"{url}/graph/17900001/replies", headers=page, params={"fields": "id,text,from"}
        )
        assert asked.json()["data"][0]["from"]["id"] == PAGE
        again = await platforms.reply(request("instagram", "17900001", text="So sorry!"))
        assert again.detail == "already replied"
        assert len(replies(state, "17900001")) == 1

    async def test_instagram_private_replies_are_sent_as_the_page(self, world: World) -> None:
        state, platforms, _ = world
        await platforms.private_message(request("instagram", "17900001", text="DM us"))
        (sent,) = [r for r in state.requests if r["route"] == "graph.private_reply"]
        assert sent["path"] == f"/graph/{PAGE}/messages"
        assert sent["body"]["recipient"] == {"comment_id": "17900001"}


class TestIds:
    @pytest.mark.parametrize(
        ("platform", "bad"),
        [
            ("facebook", "104_55/../104_99"),
            ("facebook", "104_55?fields=x"),
            ("x", "1001/hidden"),
            ("instagram", "%2e%2e"),
            ("google_business", "accounts/1/locations/2/reviews/../../../x"),
        ],
    )
    async def test_an_id_that_is_not_an_id_never_reaches_a_url(
        self, world: World, platform: str, bad: str
    ) -> None:
        state, platforms, _ = world
        before = len(state.requests)
        with pytest.raises(PlatformError, match="is not a") as refused:
            await platforms.reply(request(platform, bad))
        assert not refused.value.retryable
        assert state.requests[before:] == [] or all(
            r["route"].endswith(".token") for r in state.requests[before:]
        )

    @given(platform=st.sampled_from(sorted(SPECS)), value=st.text(max_size=60))
    def test_any_accepted_id_addresses_exactly_one_path_segment_of_its_own(
        self, platform: str, value: str
    ) -> None:
        try:
            escaped = checked_id(platform, value)
        except BadId:
            return
        assert escaped == value  # nothing to escape in a documented id
        assert ".." not in value.split("/") and "?" not in value and "#" not in value


class TestXKeptText:
    """X keeps a reply's text with the leading @names it adds, &, < and > escaped and links
    wrapped with t.co, and returns it so from every read (emulator: x_kept_text)."""

    async def test_a_reply_reads_back_as_x_keeps_it(self, world: World) -> None:
        state, platforms, url = world
        sent = "Sorry Jo & team <3 see https://northwind.example/help or northwind.com."
        made = await platforms.reply(request("x", "1001", text=sent))
        app = {"Authorization": "Bearer t0k"}
        timeline = await platforms.client.get(
            f"{url}/x/2/users/{BRAND_X}/tweets",
            headers=app,
            params={"tweet.fields": "author_id,referenced_tweets"},
        )
        (post,) = timeline.json()["data"]
        assert post["id"] == made.ref and post["author_id"] == BRAND_X
        assert post["referenced_tweets"] == [{"type": "replied_to", "id": "1001"}]
        text = post["text"]
        # The complaint's author, then its leading @names (the emulator's brand is @brand, so
        # @NorthwindCares is another account here).
        assert text.startswith(
            "@user777 @NorthwindCares Sorry Jo &amp; team &lt;3 see https://t.co/"
        )
        assert "northwind.example" not in text and "northwind.com" not in text
        assert text.endswith("."), "a trailing period is not part of a link"
        assert state.posts[made.ref].text == sent, "what the brand sent, kept apart"

    async def test_the_brand_is_not_mentioned_in_its_own_reply(self, world: World) -> None:
        state, platforms, _ = world
        state.add_post(Post("1500", "x", BRAND_X, "Our winter sale"))  # the brand's post
        state.add_post(Post("1501", "x", "777", "@brand it broke", in_reply_to="1500"))
        made = await platforms.reply(request("x", "1501", text="Sorry!"))
        assert state.posts[made.ref].shown == "@user777 Sorry!"

    async def test_the_timeline_has_a_reply_search_cannot_see_yet(self, world: World) -> None:
        state, platforms, url = world
        state.search_lag = 30.0  # recent search is an index that lags behind posting
        made = await platforms.reply(request("x", "1001"))
        app = {"Authorization": "Bearer t0k"}
        searched = await platforms.client.get(
            f"{url}/x/2/tweets/search/recent", headers=app, params={"query": "from:1500"}
        )
        timeline = await platforms.client.get(f"{url}/x/2/users/{BRAND_X}/tweets", headers=app)
        assert "data" not in searched.json()
        assert [p["id"] for p in timeline.json()["data"]] == [made.ref]
        reply = next(a for a in platforms.activities() if activity_name(a) == registry.POST_REPLY)
        again = await attempt(2).run(reply, request("x", "1001"))
        assert again.ref == made.ref and len(replies(state, "1001")) == 1

    async def test_the_timeline_leaves_out_replies_when_asked(self, world: World) -> None:
        state, platforms, url = world
        state.add_post(Post("1502", "x", BRAND_X, "Our winter sale"))
        await platforms.reply(request("x", "1001"))
        app = {"Authorization": "Bearer t0k"}
        answer = await platforms.client.get(
            f"{url}/x/2/users/{BRAND_X}/tweets", headers=app, params={"exclude": "replies"}
        )
        assert [p["id"] for p in answer.json()["data"]] == ["1502"]
        wrong = await platforms.client.get(
            f"{url}/x/2/users/{BRAND_X}/tweets", headers=app, params={"exclude": "likes"}
        )
        assert wrong.status_code == 400


class TestXDirectMessages:
    async def test_a_conversation_lists_both_sides_newest_first(self, world: World) -> None:
        state, platforms, url = world
        state.add_message("x", "777", BRAND_X, "where is my order?")
        await platforms.private_message(request("x", "1001", text="See https://northwind.example"))
        tokens = x_of(platforms).user_tokens
        assert tokens is not None
        user = {"Authorization": f"Bearer {await tokens.get()}"}
        path = f"{url}/x/2/dm_conversations/with/777/dm_events"
        plain = (await platforms.client.get(path, headers=user)).json()["data"]
        assert [set(e) for e in plain] == [{"id", "event_type", "text"}] * 2
        assert plain[0]["text"].startswith("See https://t.co/"), "links are wrapped in DMs too"
        asked = await platforms.client.get(
            path, headers=user, params={"dm_event.fields": "id,text,sender_id"}
        )
        assert [e["sender_id"] for e in asked.json()["data"]] == [BRAND_X, "777"]


class TestInstagramReplies:
    async def test_a_reply_to_a_reply_is_added_to_the_top_level_comment(self, world: World) -> None:
        state, platforms, url = world
        state.add_post(Post("17900002", "instagram", "998", "me too", in_reply_to="17900001"))
        page = {"Authorization": "Bearer t0k"}
        made = await platforms.client.post(
            f"{url}/graph/17900002/replies", headers=page, params={"message": "So sorry!"}
        )
        assert made.status_code == 200
        assert state.posts[made.json()["id"]].in_reply_to == "17900001"
        under_reply = await platforms.client.get(f"{url}/graph/17900002/replies", headers=page)
        under_top = await platforms.client.get(f"{url}/graph/17900001/replies", headers=page)
        assert under_reply.json()["data"] == []
        assert [c["id"] for c in under_top.json()["data"]] == ["17900002", made.json()["id"]]


class TestZendesk:
    async def test_an_idempotency_key_is_remembered_for_two_hours(self, world: World) -> None:
        state, platforms, url = world
        auth = {"Authorization": "Basic " + base64.b64encode(b"a@b.c/token:t0k").decode()}
        ticket = {"ticket": {"subject": "s", "comment": {"body": "b"}, "external_id": "case-1"}}

        async def create() -> int:
            answer = await platforms.client.post(
                f"{url}/zendesk/api/v2/tickets.json",
                headers={**auth, "Idempotency-Key": "k1"},
                json=ticket,
            )
            return int(answer.json()["ticket"]["id"])

        assert await create() == await create() == 1, "the first answer replayed"
        state.zendesk_keys["k1"] = (time.time() - 2 * 3600 - 1, state.tickets[0])
        assert await create() == 2, "two hours on, the key is forgotten"

    async def test_tickets_are_listed_by_external_id(self, world: World) -> None:
        _, platforms, url = world
        auth = {"Authorization": "Basic " + base64.b64encode(b"a@b.c/token:t0k").decode()}
        for n, case in enumerate(["case-1", "case-2", "case-1"]):
            await platforms.client.post(
                f"{url}/zendesk/api/v2/tickets.json",
                headers={**auth, "Idempotency-Key": f"k{n}"},
                json={"ticket": {"subject": "s", "comment": {"body": "b"}, "external_id": case}},
            )
        listed = await platforms.client.get(
            f"{url}/zendesk/api/v2/tickets.json", headers=auth, params={"external_id": "case-1"}
        )
        body = listed.json()
        assert [t["id"] for t in body["tickets"]] == [1, 3] and body["count"] == 2
        assert body["next_page"] is None
        everything = await platforms.client.get(f"{url}/zendesk/api/v2/tickets.json", headers=auth)
        assert everything.json()["count"] == 3
        refused = await platforms.client.get(f"{url}/zendesk/api/v2/tickets.json")
        assert refused.status_code == 401


class TestXThreads:
    async def test_the_poller_and_the_webhook_key_a_reply_to_the_same_case(
        self, world: World
    ) -> None:
        state, platforms, _ = world
        state.add_post(Post("1100", "x", "777", "@NorthwindCares my sofa is broken"))
        state.add_post(Post("1101", "x", "777", "still broken, 3 weeks now", in_reply_to="1100"))
        page = await x_of(platforms).poll_mentions(PollRequest(BRAND_X))
        polled = {m.id: m for m in page.mentions}
        # The same reply as X's Account Activity webhook delivers it (v1.1: no conversation id).
        event = {
            "tweet_create_events": [
                {
                    "id_str": "1101",
                    "text": "still broken, 3 weeks now",
                    "in_reply_to_status_id_str": "1100",
                    "in_reply_to_user_id_str": "777",
                    "user": {"id_str": "777", "screen_name": "jo_r", "name": "Jo"},
                }
            ]
        }
        (pushed,) = from_x(event, load_policy(EXAMPLE_POLICY))
        assert polled["1101"].thread == pushed.thread == "1100"
        assert polled["1100"].thread == "1100"


class TestGoogle:
    REVIEW = "accounts/1/locations/2/reviews/Rv_9"

    async def test_access_tokens_are_refreshed_from_the_refresh_token(self, world: World) -> None:
        state, platforms, url = world
        state.google_token_lifetime = 0.5
        state.add_post(Post(self.REVIEW, "google_business", "555", "Two weeks late. 1 star"))
        await platforms.reply(request("google_business", self.REVIEW, text="We are sorry."))
        time.sleep(0.6)
        await platforms.reply(request("google_business", self.REVIEW, text="We are so sorry."))
        assert state.refreshes == 2, "each access token expired and a new one was fetched"
        (answer,) = replies(state, self.REVIEW)
        assert answer.text == "We are so sorry.", "the review's one reply, replaced"
        stale = await platforms.client.put(
            f"{url}/gbp/v4/{self.REVIEW}/reply",
            headers={"Authorization": "Bearer t0k"},  # a fixed token is not an OAuth token
            json={"comment": "x"},
        )
        assert stale.status_code == 401

    async def test_a_refused_refresh_token_says_what_to_do(
        self, world: World, tmp_path: Path
    ) -> None:
        state, platforms, _ = world
        state.add_post(Post(self.REVIEW, "google_business", "555", "1 star"))
        wrong = Platforms(
            platforms.endpoints.changed("google", refresh_token="revoked"),
            client=platforms.client,
            store=TokenStore(tmp_path / "other.sqlite3"),
        )
        with pytest.raises(PlatformError, match="google token refresh refused") as refused:
            await wrong.reply(request("google_business", self.REVIEW))
        assert not refused.value.retryable
        assert "COMPLAINTFLOW_GBP_REFRESH_TOKEN" in str(refused.value)
        assert "revoked" not in str(refused.value), "no credential in the message"

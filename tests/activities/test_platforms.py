"""Platform adapters against the emulator over real HTTP on loopback, with injected faults."""

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.exceptions import ApplicationError

from complaintflow.activities.platforms import Platforms
from complaintflow.devkit.emulator import (
    EmulatorState,
    Fault,
    Post,
    create_app,
)
from complaintflow.devkit.serve import serving
from complaintflow.devkit.stack import connect_emulated_x
from complaintflow.errors import PlatformError
from complaintflow.platforms.credentials import TokenStore
from complaintflow.workflows import registry
from tests.support.adapters import (
    BRAND_X,
    PAGE,
    activity_name,
    attempt,
    dataclass_replace,
    emulated_endpoints,
    replies,
    request,
)

T1, B1, T2 = "1001", "1002", "1003"  # a complaint, the brand's post, a reply to it


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[EmulatorState, Platforms]]:
    state = EmulatorState(token="t0k", brand_x_id=BRAND_X, brand_page_id=PAGE)
    state.add_post(Post(T1, "x", "777", "@NorthwindCares my order never arrived"))
    state.add_post(Post(B1, "x", BRAND_X, "Our winter sale starts today"))
    state.add_post(Post(T2, "x", "777", "@NorthwindCares still nothing", in_reply_to=B1))
    state.add_post(Post("104_55", "facebook", "888", "Wrong item delivered!"))
    async with serving(create_app(state)) as url:
        endpoints = emulated_endpoints(url, tmp_path)
        store = TokenStore(endpoints.token_store)
        connect_emulated_x(store, "t0k")
        platforms = Platforms(endpoints, client=httpx.AsyncClient(timeout=5.0), store=store)
        yield state, platforms
        await platforms.client.aclose()


class TestExactlyOnce:
    @pytest.mark.parametrize(
        ("step", "mention", "calls"),
        [
            (registry.POST_REPLY, T1, ["x.post_tweet", "x.user_tweets"]),
            (registry.SEND_PRIVATE_MESSAGE, T1, ["x.send_dm", "x.list_dms"]),
            (registry.POST_REPLY, "104_55", ["graph.comment", "graph.list_comments"]),
        ],
    )
    async def test_only_a_retry_looks_for_what_an_earlier_attempt_did(
        self, world: tuple[EmulatorState, Platforms], step: str, mention: str, calls: list[str]
    ) -> None:
        state, platforms = world
        action = next(a for a in platforms.activities() if activity_name(a) == step)
        state.faults.append(Fault(route=calls[0], drop=True, times=1))
        platform = "facebook" if "_" in mention else "x"
        with pytest.raises(ApplicationError):  # committed, then the answer was lost
            await attempt(1).run(action, request(platform, mention))
        retried = await attempt(2).run(action, request(platform, mention))
        assert retried.detail.startswith("already")
        assert state.calls == calls, "the first attempt posted at once; the retry looked first"

    async def test_x_reply_lands_in_the_thread_once_even_when_retried(
        self, world: tuple[EmulatorState, Platforms]
    ) -> None:
        state, platforms = world
        first = await platforms.reply(request("x", T1))
        again = await platforms.reply(request("x", T1))
        assert again.ref == first.ref and again.detail == "already replied"
        (reply,) = replies(state, T1)
        assert (reply.author_id, reply.conversation_id) == (BRAND_X, T1)

    async def test_x_reply_after_commit_then_drop(
        self, world: tuple[EmulatorState, Platforms]
    ) -> None:
        state, platforms = world
        state.faults.append(Fault(route="x.post_tweet", drop=True, times=1))
        with pytest.raises(PlatformError) as dropped:
            await platforms.reply(request("x", T1))
        assert dropped.value.retryable
        assert len(replies(state, T1)) == 1, "the platform did commit"
        retried = await platforms.reply(request("x", T1))
        assert retried.detail == "already replied"
        assert len(replies(state, T1)) == 1

    async def test_facebook_reply_and_private_reply_once(
        self, world: tuple[EmulatorState, Platforms]
    ) -> None:
        state, platforms = world
        state.faults.append(Fault(route="graph.private_reply", drop=True, times=1))
        await platforms.reply(request("facebook", "104_55"))
        await platforms.reply(request("facebook", "104_55"))
        assert len(replies(state, "104_55")) == 1
        with pytest.raises(PlatformError):
            await platforms.private_message(request("facebook", "104_55", text="Email us"))
        sent = await platforms.private_message(request("facebook", "104_55", text="Email us"))
        assert sent.detail == "already sent"
        assert [m["text"] for m in state.messages] == ["Email us"]

    async def test_x_dm_once(self, world: tuple[EmulatorState, Platforms]) -> None:
        state, platforms = world
        await platforms.private_message(request("x", T1, text="Please email care@nw"))
        again = await platforms.private_message(request("x", T1, text="Please email care@nw"))
        assert again.detail == "already sent" and len(state.messages) == 1

    async def test_delete_retried_after_commit(
        self, world: tuple[EmulatorState, Platforms]
    ) -> None:
        state, platforms = world
        state.faults.append(Fault(route="graph.delete", drop=True, times=1))
        with pytest.raises(PlatformError):
            await platforms.remove(request("facebook", "104_55", action="delete"))
        done = await platforms.remove(request("facebook", "104_55", action="delete"))
        assert done.detail == "already deleted" and state.posts["104_55"].deleted

    async def test_google_review_has_one_reply(
        self, world: tuple[EmulatorState, Platforms]
    ) -> None:
        state, platforms = world
        review = "accounts/1/locations/2/reviews/r9"
        state.add_post(Post(review, "google_business", "555", "Two weeks late. 1 star"))
        await platforms.reply(request("google_business", review, text="We are sorry."))
        await platforms.reply(request("google_business", review, text="We are sorry."))
        (answer,) = replies(state, review)
        assert answer.text == "We are sorry."

    async def test_instagram_reply_private_reply_and_hide(
        self, world: tuple[EmulatorState, Platforms]
    ) -> None:
        state, platforms = world
        state.add_post(Post("17900001", "instagram", "999", "missing screws, wrong manual"))
        await platforms.reply(request("instagram", "17900001", text="So sorry!"))
        await platforms.reply(request("instagram", "17900001", text="So sorry!"))
        await platforms.private_message(request("instagram", "17900001", text="DM us"))
        await platforms.private_message(request("instagram", "17900001", text="DM us"))
        await platforms.remove(request("instagram", "17900001", action="hide"))
        assert [p.text for p in replies(state, "17900001")] == ["So sorry!"]
        assert [m["text"] for m in state.messages] == ["DM us"]
        assert state.posts["17900001"].hidden


# Words a brand's reply may hold that X changes when it keeps the post: &, < and > (escaped),
# links with and without a protocol (t.co), an email address (left alone), leading @names.
REPLY_WORDS = st.sampled_from(
    [
        "Sorry",
        "Jo,",
        "R&D",
        "<3",
        "a>b",
        "&amp;",
        "tom&jerry",
        "https://northwind.example/help?a=1&b=2",
        "northwind.com/returns.",
        "(www.northwind.com)",
        "care@northwind.com",
        "@NorthwindCares",
        "café",
        "😀",
        "DM",
    ]
)
_complaints = itertools.count(5000)


class TestRetriesFindWhatThePlatformKept:
    """A retry after a committed attempt whose answer was lost finds what the platform
    really keeps (not the text as sent), so nothing is posted twice."""

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(words=st.lists(REPLY_WORDS, min_size=1, max_size=6))  # within X's 280
    async def test_x_reply_is_found_as_x_returns_it(
        self, world: tuple[EmulatorState, Platforms], words: list[str]
    ) -> None:
        state, platforms = world
        complaint = str(next(_complaints))
        state.add_post(Post(complaint, "x", "777", "@NorthwindCares still waiting"))
        reply = next(a for a in platforms.activities() if activity_name(a) == registry.POST_REPLY)
        text = " ".join(words)
        state.faults.append(Fault(route="x.post_tweet", drop=True, times=1))
        with pytest.raises(ApplicationError):  # X committed, then the answer was lost
            await attempt(1).run(reply, request("x", complaint, text=text))
        retried = await attempt(2).run(reply, request("x", complaint, text=text))
        (posted,) = [p for p in replies(state, complaint) if p.author_id == BRAND_X]
        assert retried.ref == posted.id and retried.detail == "already replied"
        assert posted.shown.startswith("@user777 "), "as X keeps it: a leading @mention"

    async def test_x_reply_to_another_complaint_is_not_taken_for_this_one(
        self, world: tuple[EmulatorState, Platforms]
    ) -> None:
        state, platforms = world
        other = await platforms.reply(request("x", B1))  # same text, another thread
        made = await platforms.reply(request("x", T1))
        assert made.ref != other.ref and made.detail == ""
        assert len(replies(state, T1)) == 1

    async def test_instagram_reply_to_a_reply_is_found_under_the_top_level_comment(
        self, world: tuple[EmulatorState, Platforms]
    ) -> None:
        state, platforms = world
        state.add_post(Post("17900001", "instagram", "999", "missing screws"))
        state.add_post(
            Post("17900002", "instagram", "998", "same here, no screws", in_reply_to="17900001")
        )
        reply = next(a for a in platforms.activities() if activity_name(a) == registry.POST_REPLY)
        complaint = request("instagram", "17900002", thread="17900001", text="So sorry!")
        state.faults.append(Fault(route="graph.comment", drop=True, times=1))
        with pytest.raises(ApplicationError):
            await attempt(1).run(reply, complaint)
        retried = await attempt(2).run(reply, complaint)
        ours = [p for p in state.posts.values() if p.author_id == PAGE]
        assert [(p.in_reply_to, p.text) for p in ours] == [("17900001", "So sorry!")]
        assert retried.ref == ours[0].id and retried.detail == "already replied"

    @pytest.mark.parametrize("drop", [False, True], ids=["failed-before-sending", "answer-lost"])
    async def test_x_dm_look_up_counts_only_the_brands_own_messages(
        self, world: tuple[EmulatorState, Platforms], drop: bool
    ) -> None:
        state, platforms = world
        dm = next(
            a for a in platforms.activities() if activity_name(a) == registry.SEND_PRIVATE_MESSAGE
        )
        state.add_message("x", "777", BRAND_X, "Thanks!")  # the customer's words, the same
        state.faults.append(
            Fault(route="x.send_dm", drop=True, times=1)
            if drop
            else Fault(route="x.send_dm", status=503, times=1)
        )
        with pytest.raises(ApplicationError):
            await attempt(1).run(dm, request("x", T1, text="Thanks!"))
        if drop:  # the customer answers with the same word before the retry
            state.add_message("x", "777", BRAND_X, "Thanks!")
        sent = await attempt(2).run(dm, request("x", T1, text="Thanks!"))
        (ours,) = [m for m in state.messages if m["sender"] == BRAND_X]
        assert (ours["to"], ours["text"]) == ("777", "Thanks!")
        assert sent.ref == ours["id"]


class TestPlatformRules:
    async def test_x_limit_is_enforced_and_the_message_kept(
        self, world: tuple[EmulatorState, Platforms]
    ) -> None:
        _, platforms = world
        with pytest.raises(PlatformError) as refused:
            await platforms.reply(request("x", T1, text="x" * 281))
        assert not refused.value.retryable and refused.value.status == 403
        assert "1 to 280 characters, got 281" in str(refused.value)

    async def test_x_hides_only_in_the_brands_conversations(
        self, world: tuple[EmulatorState, Platforms]
    ) -> None:
        state, platforms = world
        with pytest.raises(PlatformError) as refused:
            await platforms.remove(request("x", T1))
        assert "only hide replies in conversations you started" in str(refused.value)
        await platforms.remove(request("x", T2))
        assert state.posts[T2].hidden

    async def test_x_cannot_delete(self, world: tuple[EmulatorState, Platforms]) -> None:
        _, platforms = world
        with pytest.raises(PlatformError, match="X does not let a brand delete"):
            await platforms.remove(request("x", T2, action="delete"))


class TestErrors:
    @pytest.mark.parametrize(
        ("status", "retry_after", "retryable"),
        [
            (500, 0.0, True),
            (503, 0.0, True),
            (429, 30.0, True),
            (400, 0.0, False),
            (404, 0.0, False),
        ],
    )
    async def test_classified(
        self,
        world: tuple[EmulatorState, Platforms],
        status: int,
        retry_after: float,
        retryable: bool,
    ) -> None:
        state, platforms = world
        state.faults.append(
            Fault(route="x.user_tweets", status=status, retry_after=retry_after, times=1)
        )
        with pytest.raises(PlatformError) as failed:
            await platforms.reply(request("x", T1))
        assert failed.value.retryable is retryable
        if retry_after:  # X gives x-rate-limit-reset (epoch seconds), not Retry-After
            assert failed.value.retry_after == pytest.approx(retry_after, abs=1.5)
        else:
            assert failed.value.retry_after is None
        assert replies(state, T1) == []

    async def test_bad_token_is_not_retried(self, world: tuple[EmulatorState, Platforms]) -> None:
        _, platforms = world
        wrong = Platforms(
            dataclass_replace(platforms.endpoints, "meta", token="nope"),
            client=platforms.client,
            store=platforms.store,
        )
        with pytest.raises(PlatformError) as failed:
            await wrong.reply(request("facebook", "104_55"))
        assert failed.value.status == 401 and not failed.value.retryable
        assert "Invalid OAuth access token" in str(failed.value)

    async def test_activity_reports_retry_advice(
        self, world: tuple[EmulatorState, Platforms]
    ) -> None:
        state, platforms = world
        state.faults.append(Fault(route="x.user_tweets", status=429, retry_after=12, times=1))
        reply = next(a for a in platforms.activities() if activity_name(a) == registry.POST_REPLY)
        with pytest.raises(ApplicationError) as failed:
            await attempt(2).run(reply, request("x", T1))  # a retry looks before posting
        assert not failed.value.non_retryable
        assert failed.value.next_retry_delay is not None
        assert failed.value.next_retry_delay.total_seconds() == pytest.approx(12, abs=1.5)

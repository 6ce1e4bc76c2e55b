"""Every id a mention carries is one its platform would send, on every route (the generic one
included): anything else is refused naming the field (a lone mention) or skipped (in a batch),
before it can open a case, become a workflow id or reach a URL."""

from __future__ import annotations

import json
import re

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complaintflow.ingest.app import Ingest
from complaintflow.platforms.facts import SPECS
from tests.support.hostile import signed
from tests.support.webhooks import feed_comment, page_delivery

VALID = {
    "x": ("1880000000000000001", "2900000001"),
    "facebook": ("104000000000001_5550016", "7001"),
    "instagram": ("17900000000000021", "17841400000000101"),
    "google_business": ("accounts/1100000000/locations/2200000000/reviews/AbFvOq0024", "29"),
}
# Characters that pass for nothing (C1 controls, direction overrides and isolates, marks):
# each can make an id or a handle read as something else.
REMARK = "nice van today lol"
INVISIBLE = ["\x85", "\u202e", "\u202a", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f"]


async def post_generic(http: httpx.AsyncClient, payload: object) -> httpx.Response:
    body = json.dumps(payload).encode()
    return await http.post("/webhooks/generic", content=body, headers=signed("generic", body))


def mention(platform: str, **fields: object) -> dict[str, object]:
    post, author = VALID[platform]
    base: dict[str, object] = {
        "id": post,
        "platform": platform,
        "text": REMARK,  # a remark: no case is left behind for another test's server
        "author": {"id": author, "handle": "jo_r"},
    }
    return {**base, **fields}


def not_an_id_of(platform: str, pattern: re.Pattern[str]) -> st.SearchStrategy[str]:
    """Text that does not have `platform`'s id shape: random text, the reported traversals,
    and valid ids with an invisible character slipped in."""
    valid = VALID[platform][0]
    return st.one_of(
        st.text(max_size=40),
        st.sampled_from(["1/../../2/users/me", "../me", "1_2/../3", "1?fields=email", " 1"]),
        st.tuples(st.integers(0, len(valid)), st.sampled_from(INVISIBLE)).map(
            lambda at: valid[: at[0]] + at[1] + valid[at[0] :]
        ),
    ).filter(lambda value: not pattern.fullmatch(value) and not value.startswith("content-"))


@st.composite
def a_bad_id(draw: st.DrawFn) -> tuple[str, str, str]:
    """(platform, field, value): one id field of a mention that its platform never sends."""
    platform = draw(st.sampled_from(sorted(SPECS)))
    field = draw(st.sampled_from(["id", "thread_id", "author.id"]))
    spec = SPECS[platform]
    pattern = spec.author_id_pattern if field == "author.id" else spec.id_pattern
    value = draw(not_an_id_of(platform, pattern))
    if field != "id" and value == "":
        value = "../"  # an empty thread or author id means "none given"
    return platform, field, value


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(bad=a_bad_id())
async def test_a_generic_mention_with_an_id_its_platform_never_sends_is_refused_naming_it(
    service: tuple[httpx.AsyncClient, Ingest], bad: tuple[str, str, str]
) -> None:
    http, _ = service
    platform, field, value = bad
    payload = mention(platform)
    if field == "author.id":
        payload["author"] = {"id": value, "handle": "jo_r"}
    else:
        payload[field] = value
    answer = await post_generic(http, payload)
    assert answer.status_code == 400, (answer.status_code, answer.text)
    assert f"{field} " in answer.json()["error"], answer.json()
    batch = await post_generic(http, {"mentions": [payload, mention(platform)]})
    assert batch.status_code == 200, batch.text
    assert [d["id"] for d in batch.json()["decisions"]] == [VALID[platform][0]]
    assert f"{field} " in batch.json()["skipped"][0]


async def test_ids_of_each_platforms_shape_are_taken(
    service: tuple[httpx.AsyncClient, Ingest],
) -> None:
    http, _ = service
    for platform in VALID:
        answer = await post_generic(http, mention(platform, thread_id=VALID[platform][0]))
        assert answer.status_code == 200, (platform, answer.text)
    unnamed = {"platform": "x", "text": f"{REMARK}, said no one before"}
    answer = await post_generic(http, unnamed)
    assert answer.status_code == 200, answer.text
    assert answer.json()["decisions"][0]["id"].startswith("content-")


async def test_invisible_characters_are_refused_in_ids_and_handles(
    service: tuple[httpx.AsyncClient, Ingest],
) -> None:
    http, _ = service
    for char in INVISIBLE:
        answer = await post_generic(http, mention("x", id=f"1880000000000000001{char}"))
        assert answer.status_code == 400 and "id " in answer.json()["error"], answer.text
        handle = await post_generic(http, mention("x", author={"handle": f"jo{char}r"}))
        assert handle.status_code == 400, handle.text
        assert "author.handle holds U+" in handle.json()["error"]


async def test_a_meta_comment_from_an_id_no_one_has_is_skipped_naming_the_field(
    service: tuple[httpx.AsyncClient, Ingest],
) -> None:
    http, _ = service
    odd = feed_comment("104_9601", "refund now", post_id="104_0", author=("../me", "Chris"))
    good = feed_comment("104_9602", REMARK, post_id="104_0")
    body = json.dumps(page_delivery("104000000000001", odd, good)).encode()
    answer = await http.post("/webhooks/meta", content=body, headers=signed("meta", body))
    assert answer.status_code == 200, answer.text
    assert [d["id"] for d in answer.json()["decisions"]] == ["104_9602"]
    (skipped,) = answer.json()["skipped"]
    assert "entry[0].changes[0].value.from.id" in skipped and "facebook user id" in skipped


def test_every_mention_of_the_bundled_stream_has_its_platforms_ids() -> None:
    """`dev` plays the bundled stream through /webhooks/generic: none of it may be refused."""
    from complaintflow.devkit import sample_stream_path
    from complaintflow.ingest.body import unfit
    from complaintflow.learning.files import read_mentions

    mentions = list(read_mentions(sample_stream_path()))
    assert len({m.platform for m in mentions}) == len(SPECS)
    assert {m.id: unfit(m) for m in mentions} == {m.id: "" for m in mentions}

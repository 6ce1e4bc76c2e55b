"""Hostile webhook bodies, generated: valid deliveries with one value poisoned, deep nesting,
raw bytes and invalid UTF-8, each correctly signed for its route; and batches of a good entry
beside a poisoned one (whose good entry must always be taken)."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st

from tests.support.webhooks import (
    BRAND_X,
    feed_comment,
    hex_signature,
    page_delivery,
    x_event,
    x_signature,
)

META_COMMENT: dict[str, Any] = page_delivery(
    "104000000000001",
    feed_comment(
        "104_9",
        "Wrong item delivered AGAIN. Refund please",
        post_id="104_0",
        created_time=1795000000,
    ),
)
GENERIC: dict[str, Any] = {
    "id": "17900000000000001",
    "platform": "instagram",
    "text": "broken, refund?",
}


def signed(route: str, body: bytes) -> dict[str, str]:
    return {
        "x": {"x-twitter-webhooks-signature": x_signature(body)},
        "meta": {"x-hub-signature-256": hex_signature(body, "meta-secret")},
        "generic": {"x-complaintflow-signature": hex_signature(body, "generic-secret")},
    }[route]


def valid(route: str) -> dict[str, Any]:
    if route == "x":
        return x_event("1880000000000000042", "@NorthwindCares my order never arrived, refund")
    return copy.deepcopy(META_COMMENT if route == "meta" else GENERIC)


POISON: st.SearchStrategy[object] = st.one_of(
    st.just("\ud800"),  # a lone surrogate, as the \ud800 escape
    st.text(min_size=1, max_size=5).map(lambda t: t + "\udfff"),
    st.integers(min_value=1000, max_value=6000).map(lambda n: RawNumber("9" * n)),
    st.integers(min_value=1000, max_value=3000).map(lambda n: "1" * n),  # a long id
    st.sampled_from(
        [
            10**12,
            -(10**12),
            2**64,
            1e308,
            "Sun Nov 22 10:00:00 +0000 9999",
            "9999-12-31T23:59:59+00:00",
            "0001-01-01T00:00:00Z",
            "not a time",
            "NaN",
            None,
            True,
            [],
            {},
            "\x00\x07",
        ]
    ),
)
PLACEHOLDER = "raw-number-placeholder"


class RawNumber(str):
    """Digits written into the JSON as a number, not as a string."""


@st.composite
def hostile_body(draw: st.DrawFn) -> tuple[str, bytes]:
    route = draw(st.sampled_from(["x", "meta", "generic"]))
    shape = draw(st.sampled_from(["poisoned", "nested", "bytes", "mangled"]))
    if shape == "bytes":
        return route, draw(st.binary(max_size=300))
    if shape == "nested":
        depth = draw(st.integers(min_value=30, max_value=6000))
        opener = draw(st.sampled_from(["[", '{"a":']))
        closer = "]" if opener == "[" else "}"
        return route, (opener * depth + "1" + closer * depth).encode()
    payload = valid(route)
    container, key = draw(st.sampled_from(leaves_of(payload)))
    value = draw(POISON)
    container[key] = PLACEHOLDER if isinstance(value, RawNumber) else value
    text = json.dumps(payload)  # a lone surrogate is written as its \\udXXX escape
    if isinstance(value, RawNumber):
        text = text.replace(f'"{PLACEHOLDER}"', value)
    body = text.encode("utf-8")
    if shape == "mangled":  # invalid UTF-8 inside an otherwise valid body
        at = draw(st.integers(min_value=0, max_value=len(body)))
        junk = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"]))
        body = body[:at] + junk + body[at:]
    return route, body


def leaves_of(payload: Any) -> list[tuple[Any, Any]]:
    found: list[tuple[Any, Any]] = []
    stack: list[Any] = [payload]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            if isinstance(value, dict | list):
                stack.append(value)
            else:
                found.append((node, key))
    return found


# Values that poison one entry and only that entry: every one is valid JSON that ingest reads
# (lone surrogates and numbers over 30 digits make the whole body unreadable: those are above).
ENTRY_POISON: st.SearchStrategy[object] = st.one_of(
    st.sampled_from(
        [
            10**15,
            2**53,
            10**12,
            -1,
            0,
            2**64,
            1e300,
            -0.5,
            "",
            "1/../../2/users/me",
            "1880000000000000099\u0085",
            "1880000000000000099\u202e",
            "\u2066188\u2069",
            "188\u200e0",
            "188\u200f0",
            "Sun Nov 22 10:00:00 +0000 9999",
            "not a time",
            None,
            True,
            [],
            {},
            [1, "a"],
            {"id": "1"},
            "\x00\x07",
        ]
    ),
    st.integers(min_value=-(10**29), max_value=10**29),
    st.text(max_size=30),
    st.integers(min_value=201, max_value=3000).map(lambda n: "9" * n),
)
GOOD_IDS = {"x": "1880000000000000500", "meta": "104_9500", "generic": "17900000000000500"}
# Both entries are remarks with ids no other test uses: a batch opens no case, so none is
# left waiting for a worker that has gone (it would hold the test server's clock).
REMARK = "nice van today lol"


def _batch(route: str) -> tuple[dict[str, Any], Any]:
    """A delivery of two good entries for `route`, and the second (the one to poison)."""
    if route == "x":
        good = x_event(GOOD_IDS["x"], REMARK)
        other = x_event("1880000000000000501", REMARK)["tweet_create_events"][0]  # type: ignore[index]
        good["tweet_create_events"].append(other)  # type: ignore[attr-defined]
        return good, other
    if route == "meta":
        first = feed_comment(GOOD_IDS["meta"], REMARK, post_id="104_0", created_time=1795000000)
        second = feed_comment("104_9501", REMARK, post_id="104_0", created_time=1795000000)
        delivery = page_delivery("104000000000001", first)
        victim = {"id": "104000000000001", "changes": [second]}
        delivery["entry"].append(victim)  # type: ignore[attr-defined]
        return delivery, victim
    other = {**GENERIC, "id": "17900000000000501", "text": REMARK}
    return {"mentions": [{**GENERIC, "id": GOOD_IDS["generic"], "text": REMARK}, other]}, other


@st.composite
def batch_with_a_poisoned_entry(draw: st.DrawFn) -> tuple[str, bytes, str]:
    """(route, signed-ready body, the good entry's id): one entry of a batch gets a hostile
    value in one of its fields; the other entry is good."""
    route = draw(st.sampled_from(["x", "meta", "generic"]))
    delivery, victim = _batch(route)
    container, key = draw(st.sampled_from(leaves_of(victim)))
    container[key] = draw(ENTRY_POISON)
    return route, json.dumps(delivery).encode(), GOOD_IDS[route]


PRIVATE_GOOD_IDS = {"x": "1880000000000000600", "meta": "m_hostile_good"}


def _private_batch(route: str) -> tuple[dict[str, Any], Any]:
    """Two private messages of a sender with no case, as the platform documents them (X
    `direct_message_events`; a Page's `messaging` events), and the second (the one to poison)."""

    def x_dm(message_id: str, sender: str) -> dict[str, Any]:
        return {
            "type": "message_create",
            "id": message_id,
            "created_timestamp": "1764000000000",
            "message_create": {
                "target": {"recipient_id": BRAND_X},
                "sender_id": sender,
                "message_data": {"text": REMARK},
            },
        }

    if route == "x":
        victim = x_dm("1880000000000000601", "7002")
        delivery = {
            "for_user_id": BRAND_X,
            "direct_message_events": [x_dm(PRIVATE_GOOD_IDS["x"], "7001"), victim],
            "users": {"7001": {"id": "7001", "name": "Ann", "screen_name": "ann"}},
        }
        return delivery, victim

    def event(mid: str, sender: str) -> dict[str, Any]:
        return {
            "sender": {"id": sender},
            "recipient": {"id": "104000000000001"},
            "timestamp": 1764000000000,
            "message": {"mid": mid, "text": REMARK},
        }

    victim = {"id": "104000000000001", "time": 1, "messaging": [event("m_hostile_bad", "7004")]}
    first = {
        "id": "104000000000001",
        "time": 1,
        "messaging": [event(PRIVATE_GOOD_IDS["meta"], "7003")],
    }
    return {"object": "page", "entry": [first, victim]}, victim


@st.composite
def private_batch_with_a_poisoned_entry(draw: st.DrawFn) -> tuple[str, bytes, str]:
    """(route, body, the good message's id): one private message of a batch gets a hostile
    value in one of its fields; the other is good."""
    route = draw(st.sampled_from(["x", "meta"]))
    delivery, victim = _private_batch(route)
    container, key = draw(st.sampled_from(leaves_of(victim)))
    container[key] = draw(ENTRY_POISON)
    return route, json.dumps(delivery).encode(), PRIVATE_GOOD_IDS[route]

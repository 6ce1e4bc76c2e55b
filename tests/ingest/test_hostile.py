"""Hostile webhook bodies, validly signed: never a 5xx; what can never succeed is a 4xx with
its reason, and nothing in a refused batch is started."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.client import Client
from temporalio.service import RPCError

from complaintflow import load_policy
from complaintflow.devkit.serve import serving
from complaintflow.ingest.app import Ingest, IngestSecrets, create_app, parse_body
from tests.support.paths import EXAMPLE_POLICY
from tests.support.webhooks import hex_signature, x_event, x_signature

META_COMMENT: dict[str, Any] = {
    "object": "page",
    "entry": [
        {
            "id": "104000000000001",
            "changes": [
                {
                    "field": "feed",
                    "value": {
                        "item": "comment",
                        "verb": "add",
                        "comment_id": "104_9",
                        "post_id": "104_0",
                        "parent_id": "104_0",
                        "message": "Wrong item delivered AGAIN. Refund please",
                        "from": {"id": "888", "name": "Chris"},
                        "created_time": 1795000000,
                    },
                }
            ],
        }
    ],
}
GENERIC: dict[str, Any] = {"id": "g-1", "platform": "instagram", "text": "broken, refund?"}


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


POISON = st.one_of(
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


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=hostile_body())
async def test_hostile_signed_bodies_never_get_a_5xx(
    service: tuple[httpx.AsyncClient, Ingest], case: tuple[str, bytes]
) -> None:
    http, _ = service
    route, body = case
    answer = await http.post(f"/webhooks/{route}", content=body, headers=signed(route, body))
    assert answer.status_code < 500, (answer.status_code, answer.text, body[:200])
    if answer.status_code >= 400:
        assert answer.json()["error"], "a refusal says why"


async def test_the_reported_bodies_get_a_4xx_with_the_reason(
    service: tuple[httpx.AsyncClient, Ingest],
) -> None:
    http, _ = service
    tweet = valid("x")
    long_id = copy.deepcopy(tweet)
    long_id["tweet_create_events"][0]["id_str"] = "1" * 1200
    year_9999 = copy.deepcopy(tweet)
    year_9999["tweet_create_events"][0]["created_at"] = "Sun Nov 22 10:00:00 +0000 9999"
    far_time = copy.deepcopy(META_COMMENT)
    far_time["entry"][0]["changes"][0]["value"]["created_time"] = 10**12
    surrogate = json.dumps(GENERIC).replace('"g-1"', '"g-\\ud800"')
    bodies = {
        "x": [
            (json.dumps(long_id).encode(), "is not a x id"),
            (json.dumps(year_9999).encode(), "out of range"),
            (b'{"for_user_id": "\xff"}', "not UTF-8"),
            (b"[" * 5000 + b"]" * 5000, "nests more than"),
            (b'{"for_user_id": ' + b"9" * 5000 + b"}", "too large"),
        ],
        "meta": [(json.dumps(far_time).encode(), "cannot be read")],
        "generic": [(surrogate.encode(), "lone surrogate")],
    }
    for route, cases in bodies.items():
        for body, reason in cases:
            answer = await http.post(
                f"/webhooks/{route}", content=body, headers=signed(route, body)
            )
            assert answer.status_code == 400, (route, body[:80], answer.text)
            assert reason in answer.json()["error"], answer.json()


async def test_a_batch_takes_its_good_entries_and_reports_one_that_can_never_be_taken(
    service: tuple[httpx.AsyncClient, Ingest],
) -> None:
    """Every entry is checked before anything starts: the good one is taken, the bad one is
    reported (no retry could fix it), and a delivery of only bad entries starts nothing."""
    http, ingest = service
    good = x_event("1880000000000000077", "@NorthwindCares my order never arrived, refund")
    bad = x_event("1880000000000000078", "@NorthwindCares broken, refund")
    bad_tweet = bad["tweet_create_events"][0]  # type: ignore[index]
    bad_tweet["id_str"] = "2" * 1500
    good["tweet_create_events"].append(bad_tweet)  # type: ignore[attr-defined]
    body = json.dumps(good).encode()
    answer = await http.post("/webhooks/x", content=body, headers=signed("x", body))
    assert answer.status_code == 200, answer.text
    assert answer.json()["cases"] == ["case-x-1880000000000000077"]
    assert ["is not a x id" in problem for problem in answer.json()["skipped"]] == [True]

    bad["tweet_create_events"] = [bad_tweet]
    body = json.dumps(bad).encode()
    answer = await http.post("/webhooks/x", content=body, headers=signed("x", body))
    assert answer.status_code == 400
    assert "is not a x id" in answer.json()["error"]
    handle = ingest.client.get_workflow_handle("case-x-1880000000000000078")
    try:
        await handle.describe()
    except RPCError:
        pass  # nothing of a refused delivery was started
    else:
        raise AssertionError("a mention of a refused delivery was started")


async def test_a_non_ascii_verify_token_is_refused_not_a_crash(
    service: tuple[httpx.AsyncClient, Ingest],
) -> None:
    http, _ = service
    answer = await http.get(
        "/webhooks/meta",
        params={"hub.mode": "subscribe", "hub.verify_token": "vérifié", "hub.challenge": "1"},
    )
    assert answer.status_code == 403
    answer = await http.get("/webhooks/x", params={"crc_token": "jeton-é"})
    assert answer.status_code == 200


async def test_readyz_says_whether_temporal_answers(
    service: tuple[httpx.AsyncClient, Ingest], tmp_path: Any
) -> None:
    http, _ = service
    assert (await http.get("/readyz")).json()["ready"] is True
    nowhere = await Client.connect("127.0.0.1:1", lazy=True)
    down = Ingest(
        nowhere,
        load_policy(EXAMPLE_POLICY),
        task_queue="q",
        secrets=IngestSecrets(),
        decision_log=tmp_path / "d.jsonl",
    )
    async with serving(create_app(down)) as url, httpx.AsyncClient(base_url=url) as other:
        assert (await other.get("/healthz")).status_code == 200, "alive"
        ready = await other.get("/readyz")
        assert ready.status_code == 503 and ready.json()["ready"] is False


def test_parse_body_refuses_what_json_would_crash_on() -> None:
    for body in (b"\xff", b"[" * 100_000, b"1" * 5000, b'"\\ud800"', b"NaN", b"1e999"):
        try:
            parse_body(body)
        except ValueError as exc:
            assert str(exc)
        else:
            raise AssertionError(body[:20])
    assert parse_body(b'{"a": [1, 2.5, "\\u00e9"]}') == {"a": [1, 2.5, "é"]}

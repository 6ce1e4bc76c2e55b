"""Hostile webhook bodies, validly signed: never a 5xx; a body that cannot be read at all is a
4xx with its reason; a bad entry of a readable delivery is skipped and reported, never the
batch: its good entries are always taken."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from temporalio.client import Client
from temporalio.service import RPCError

from complaintflow import load_policy
from complaintflow.devkit.serve import serving
from complaintflow.ingest.app import Ingest, IngestSecrets, create_app, parse_body
from tests.support.hostile import (
    GENERIC,
    META_COMMENT,
    batch_with_a_poisoned_entry,
    hostile_body,
    private_batch_with_a_poisoned_entry,
    signed,
    valid,
)
from tests.support.paths import EXAMPLE_POLICY
from tests.support.webhooks import x_event


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


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=batch_with_a_poisoned_entry())
async def test_a_poisoned_entry_never_costs_the_good_one_beside_it(
    service: tuple[httpx.AsyncClient, Ingest], case: tuple[str, bytes, str]
) -> None:
    """Whatever one entry holds (a time out of range, an id no platform sends, a value of
    the wrong type), the delivery is 2xx and its good entry is taken."""
    http, _ = service
    route, body, good = case
    answer = await http.post(f"/webhooks/{route}", content=body, headers=signed(route, body))
    assert answer.status_code == 200, (answer.status_code, answer.text, body[:300])
    assert good in [d["id"] for d in answer.json()["decisions"]], answer.text


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=private_batch_with_a_poisoned_entry())
async def test_a_poisoned_private_message_never_costs_the_good_one_beside_it(
    service: tuple[httpx.AsyncClient, Ingest], case: tuple[str, bytes, str]
) -> None:
    """X `direct_message_events` and Messenger `messaging` events get the treatment mentions
    get: whatever one message holds, the delivery is 2xx (never 5xx) and the good message is
    taken (triaged the first time, known as already taken when it comes again)."""
    http, _ = service
    route, body, good = case
    answer = await http.post(f"/webhooks/{route}", content=body, headers=signed(route, body))
    assert answer.status_code == 200, (answer.status_code, answer.text, body[:300])
    done = answer.json()
    taken = [d["id"] for d in done["decisions"]] + [
        c["id"] for c in done.get("contacts", []) if c.get("redelivered")
    ]
    assert good in taken, answer.text


async def test_a_body_that_cannot_be_read_at_all_gets_a_4xx_with_the_reason(
    service: tuple[httpx.AsyncClient, Ingest],
) -> None:
    http, _ = service
    surrogate = json.dumps(GENERIC).replace('"broken', '"broken\\ud800')
    bodies = {
        "x": [
            (b'{"for_user_id": "\xff"}', "not UTF-8"),
            (b"[" * 5000 + b"]" * 5000, "nests more than"),
            (b'{"for_user_id": ' + b"9" * 5000 + b"}", "too large"),
            (b'{"tweet_create_events": 5}', "tweet_create_events must be a list"),
        ],
        "meta": [
            (b'{"object": "user", "entry": []}', '"object" must be "page" or "instagram"'),
            (b'{"object": "page", "entry": {}}', "entry must be a list"),
        ],
        "generic": [(surrogate.encode(), "lone surrogate")],
    }
    for route, cases in bodies.items():
        for body, reason in cases:
            answer = await http.post(
                f"/webhooks/{route}", content=body, headers=signed(route, body)
            )
            assert answer.status_code == 400, (route, body[:80], answer.text)
            assert reason in answer.json()["error"], answer.json()


async def test_entries_that_can_never_be_taken_are_skipped_with_their_reasons(
    service: tuple[httpx.AsyncClient, Ingest],
) -> None:
    """A platform retries anything but 2xx (Meta for 36 hours), and no retry fixes a bad
    entry: a readable delivery whose every entry is bad is 2xx with each under `skipped`."""
    http, ingest = service
    tweet = valid("x")
    long_id = copy.deepcopy(tweet)
    long_id["tweet_create_events"][0]["id_str"] = "1" * 1200
    year_9999 = copy.deepcopy(tweet)
    year_9999["tweet_create_events"][0]["created_at"] = "Sun Nov 22 10:00:00 +0000 9999"
    far_time = copy.deepcopy(META_COMMENT)
    far_time["entry"][0]["changes"][0]["value"]["created_time"] = 10**12
    bodies = {
        "x": [(long_id, "is not a x id"), (year_9999, "out of range")],
        "meta": [(far_time, "created_time: 1000000000000 is out of range")],
    }
    for route, cases in bodies.items():
        for payload, reason in cases:
            body = json.dumps(payload).encode()
            answer = await http.post(
                f"/webhooks/{route}", content=body, headers=signed(route, body)
            )
            assert answer.status_code == 200, (route, answer.text)
            assert answer.json()["accepted"] == 0
            (skipped,) = answer.json()["skipped"]
            assert reason in skipped, skipped
    assert ingest.skipped_entries == 3


async def test_a_batch_takes_its_good_entries_and_reports_one_that_can_never_be_taken(
    service: tuple[httpx.AsyncClient, Ingest],
) -> None:
    """Every entry is checked before anything starts: the good one is taken, the bad one is
    reported (no retry could fix it) and never started."""
    http, ingest = service
    good = x_event("1880000000000000077", "@NorthwindCares my order never arrived, refund")
    bad = x_event("1880000000000000078", "@NorthwindCares broken, refund")
    bad_tweet = bad["tweet_create_events"][0]  # type: ignore[index]
    bad_tweet["in_reply_to_status_id_str"] = "1880000000000000001/../../2/users/me"
    good["tweet_create_events"].append(bad_tweet)  # type: ignore[attr-defined]
    body = json.dumps(good).encode()
    answer = await http.post("/webhooks/x", content=body, headers=signed("x", body))
    assert answer.status_code == 200, answer.text
    assert answer.json()["cases"] == ["case-x-1880000000000000077@northwind-social-care"]
    (skipped,) = answer.json()["skipped"]
    assert "tweet_create_events[1].in_reply_to_status_id_str" in skipped
    assert "is not a x id" in skipped
    handle = ingest.client.get_workflow_handle("case-x-1880000000000000078@northwind-social-care")
    try:
        await handle.describe()
    except RPCError:
        pass  # nothing of a skipped entry was started
    else:
        raise AssertionError("a skipped entry was started")


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

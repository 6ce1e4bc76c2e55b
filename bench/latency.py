"""Latency: mention accepted by ingest -> reply posted in the complaint's thread on the emulator.

Everything real, on loopback, in one run: a local Temporal dev server (in memory), the platform
emulator, the ingest service taking signed X webhooks, a worker whose adapters call the
emulator. The policy notifies the team, answers at once, and closes. Mentions arrive at a
steady rate (open loop).

Baseline, same run and same rate: a bare workflow started directly (no ingest, no triage, no
policy) whose two activities post the same Slack notification and the same reply with plain
httpx calls. The ratio is what ingest, triage, the case workflow and the exactly-once adapters
add on top of Temporal's own floor.
Run: python bench/latency.py [--mentions 200] [--rate 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import structlog
from bare_workflow import BareReply  # beside this file: imported by name in the sandbox
from temporalio import activity
from temporalio.worker import Worker

from complaintflow import compile_policy
from complaintflow.devkit.emulator import EmulatorState, Post, create_app
from complaintflow.devkit.policies import automatic_policy
from complaintflow.devkit.serve import serving
from complaintflow.devkit.stack import emulated_adapters, in_memory_temporal
from complaintflow.ingest.app import Ingest, IngestSecrets
from complaintflow.ingest.app import create_app as create_ingest
from complaintflow.signatures import sign
from complaintflow.worker import build_worker

BRAND = "1500"
BARE = "bare workflow, 2 activities (baseline)"
CASE = "ingest -> case -> reply posted"
SECRET = "bench-consumer-secret"
POLICY = automatic_policy(
    brand=BRAND,
    steps=('notify: {via: slack, target: "#care", template: alert}', "reply: {template: ack}"),
    respond_within="1h",
)


def x_webhook(tweet_id: str, n: int) -> bytes:
    tweet = {
        "id_str": tweet_id,
        "text": f"@AcmeCares my kettle {n} arrived broken",
        "user": {"id_str": str(600_000 + n), "screen_name": f"user{n}", "name": f"User {n}"},
    }
    return json.dumps({"for_user_id": BRAND, "tweet_create_events": [tweet]}).encode()


def bare_activities(
    url: str, http: httpx.AsyncClient, token: str
) -> list[Callable[..., Awaitable[None]]]:
    @activity.defn(name="bare_notify")
    async def notify(tweet_id: str) -> None:
        answer = await http.post(f"{url}/slack/bench", json={"text": f"New complaint {tweet_id}"})
        answer.raise_for_status()

    @activity.defn(name="bare_reply")
    async def reply(tweet_id: str) -> None:
        answer = await http.post(
            f"{url}/x/2/tweets",
            json={"text": "Sorry, we are on it.", "reply": {"in_reply_to_tweet_id": tweet_id}},
            headers={"authorization": f"Bearer {token}"},  # a user-context token
        )
        answer.raise_for_status()

    return [notify, reply]


async def steady(
    keys: list[str], rate: float, one: Callable[[int, str], Awaitable[float]]
) -> dict[str, float]:
    """Start `one(n, key)` every 1/rate s (open loop); each returns when it was accepted."""
    accepted: dict[str, float] = {}

    async def run(n: int, key: str) -> None:
        accepted[key] = await one(n, key)

    tasks = []
    started = time.perf_counter()
    for n, key in enumerate(keys):
        await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(run(n, key)))
    await asyncio.gather(*tasks)
    return accepted


async def answered(emulator: EmulatorState, ids: list[str], *, seconds: float) -> dict[str, float]:
    """When (time.time) each post in `ids` got the brand's reply."""
    deadline = time.monotonic() + seconds
    wanted = set(ids)
    while True:
        found = {
            p.in_reply_to: p.created
            for p in list(emulator.posts.values())
            if p.author_id == BRAND and p.in_reply_to in wanted
        }
        if len(found) == len(wanted) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


def report(label: str, latencies: list[float]) -> float:
    cut = statistics.quantiles(latencies, n=100)
    p50 = statistics.median(latencies)
    print(
        f"{label:44} p50 {p50 * 1000:6.0f} ms   p90 {cut[89] * 1000:6.0f} ms   "
        f"p99 {cut[98] * 1000:6.0f} ms   max {max(latencies) * 1000:6.0f} ms"
    )
    return p50


async def main(count: int, rate: float) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    environment = await in_memory_temporal()
    client = environment.client
    emulator = EmulatorState(token="tok", brand_x_id=BRAND, brand_page_id="p")
    policy = compile_policy(POLICY)
    ingest = Ingest(
        client,
        policy,
        task_queue="latency",
        secrets=IngestSecrets(x_consumer_secret=SECRET),
        decision_log=Path(os.devnull),
    )
    async with (
        serving(create_app(emulator)) as url,
        serving(create_ingest(ingest)) as ingest_url,
        httpx.AsyncClient(timeout=30.0) as http,
        build_worker(
            client,
            task_queue="latency",
            activities=emulated_adapters(url, "tok", Path(os.devnull), client=http),
        ),
        Worker(
            client,
            task_queue="latency-bare",
            workflows=[BareReply],
            activities=bare_activities(
                url, http, emulator.issue("x", 24 * 3600, refresh=False).access_token
            ),
        ),
    ):

        async def one_bare(n: int, tweet: str) -> float:
            emulator.add_post(Post(tweet, "x", str(600_000 + n), f"@AcmeCares my kettle {n} broke"))
            await client.start_workflow(
                BareReply.run, tweet, id=f"bare-{tweet}", task_queue="latency-bare"
            )
            return time.time()

        async def one_case(n: int, tweet: str) -> float:
            emulator.add_post(Post(tweet, "x", str(600_000 + n), f"@AcmeCares my kettle {n} broke"))
            body = x_webhook(tweet, n)
            answer = await http.post(
                f"{ingest_url}/webhooks/x",
                content=body,
                headers={
                    "x-twitter-webhooks-signature": sign(SECRET.encode(), body, encoding="base64")
                },
            )
            answer.raise_for_status()
            return time.time()

        p50 = {}
        for label, one in (
            (BARE, one_bare),
            (CASE, one_case),
        ):
            for warm_up in (True, False):
                keys = [
                    str(10**18 + uuid.uuid4().int % 10**18) for _ in range(10 if warm_up else count)
                ]  # X ids are digits
                accepted = await steady(keys, rate, one)
                replied = await answered(emulator, keys, seconds=120)
                assert len(replied) == len(keys), f"{len(keys) - len(replied)} unanswered"
            p50[label] = report(label, [replied[k] - accepted[k] for k in keys])
        bare, case = (p50[label] for label in (BARE, CASE))
        print(f"ratio case/bare at p50: {case / bare:.2f}  ({count} each at {rate}/s)")
    await environment.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10.0, help="mentions per second")
    args = parser.parse_args()
    asyncio.run(main(args.mentions, args.rate))
    os._exit(0)  # the SDK's native runtime may crash while Python finalizes

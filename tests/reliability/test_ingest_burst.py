"""A burst of 5,000 signed X webhooks, 10 % of them redelivered, while no worker runs, spread
round-robin over two ingest replicas sharing one decision store.

Every one is accepted (2xx only once Temporal or the store has it); when a worker comes back,
each distinct complaint is exactly one case that answers once, and each distinct remark is
exactly one row of the store and one line of the replicas' decision logs together.
"""

import asyncio
import itertools
import json
import random
import time
from collections import Counter
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from complaintflow import compile_policy
from complaintflow.devkit.emulator import EmulatorState, Post
from complaintflow.devkit.emulator import create_app as create_emulator
from complaintflow.devkit.policies import automatic_policy
from complaintflow.devkit.serve import serving
from complaintflow.ingest.app import Ingest, IngestSecrets
from complaintflow.ingest.app import create_app as create_ingest
from complaintflow.store import open_store
from tests.support.platform import emulated_worker
from tests.support.webhooks import x_event, x_signature

WEBHOOKS = 5_000
REDELIVERED = 0.10
COMPLAINTS = 0.15  # the share of distinct posts that are real complaints
BRAND = "1500000000000000001"
POLICY = automatic_policy(brand=BRAND, steps=["reply: {template: ack}"])


async def test_burst_while_the_worker_is_down(dev: WorkflowEnvironment, tmp_path: Path) -> None:
    rng = random.Random(6)
    distinct = WEBHOOKS - int(WEBHOOKS * REDELIVERED)
    complaints = set(rng.sample(range(distinct), int(distinct * COMPLAINTS)))
    emulator = EmulatorState(token="tok", brand_x_id=BRAND, brand_page_id="p")
    bodies: list[tuple[str, bytes]] = []
    for n in range(distinct):
        tweet = f"9{n:06d}"
        text = f"@AcmeCares kettle {n} arrived broken" if n in complaints else f"nice one {n} lol"
        emulator.add_post(Post(tweet, "x", str(600_000 + n), text))
        bodies.append((tweet, json.dumps(x_event(tweet, text, user_id=str(600_000 + n))).encode()))
    deliveries = bodies + rng.sample(bodies, WEBHOOKS - distinct)
    rng.shuffle(deliveries)
    queue = "burst"
    policy = compile_policy(POLICY)
    database = f"sqlite:///{tmp_path / 'store.db'}"
    replicas = [
        Ingest(
            dev.client,
            policy,
            task_queue=queue,
            secrets=IngestSecrets(x_consumer_secret="x-secret"),
            decision_log=tmp_path / f"replica{n}" / "decisions.jsonl",
            store=open_store(database),  # a connection of its own, as a process would have
        )
        for n in range(2)
    ]
    answers: Counter[int] = Counter()
    dropped: Counter[str] = Counter()
    async with (
        serving(create_emulator(emulator)) as emulator_url,
        serving(create_ingest(replicas[0])) as first_url,
        serving(create_ingest(replicas[1])) as second_url,
        httpx.AsyncClient(timeout=30.0) as http,
    ):
        gate = asyncio.Semaphore(16)
        balancer = itertools.cycle([first_url, second_url])

        async def deliver(body: bytes) -> None:
            # Like X, deliver again when no answer came: "if ... we don't receive a response at
            # all, we retry", three times (developer.x.com/en/docs/x-api/enterprise/
            # account-activity-api/guides/activity-retries). A kept-alive connection the server
            # closes as a request goes out is part of HTTP; on a busy machine its idle timer
            # can fire first.
            async with gate:
                for _ in range(1 + 3):
                    try:
                        answer = await http.post(
                            f"{next(balancer)}/webhooks/x",
                            content=body,
                            headers={"x-twitter-webhooks-signature": x_signature(body)},
                        )
                    except httpx.TransportError:
                        dropped["connections"] += 1
                        continue
                    answers[answer.status_code] += 1
                    return

        started = time.monotonic()
        await asyncio.gather(*(deliver(body) for _, body in deliveries))
        burst = time.monotonic() - started
        assert answers == {200: WEBHOOKS}, answers
        assert not [p for p in emulator.posts.values() if p.author_id == BRAND], "no worker yet"

        async with emulated_worker(dev.client, queue, emulator_url, tmp_path, http=http):
            running = f'TaskQueue="{queue}" AND ExecutionStatus="Running"'
            for _ in range(1200):
                if (await dev.client.count_workflows(running)).count == 0:
                    break
                await asyncio.sleep(0.25)
        drained = time.monotonic() - started - burst
    print(
        f"\n{WEBHOOKS} webhooks in {burst:.1f} s ({dropped['connections']} connections dropped"
        f" before an answer and delivered again); cases drained {drained:.1f} s later"
    )

    complaint_ids = {tweet for n, (tweet, _) in enumerate(bodies) if n in complaints}
    remark_ids = {tweet for tweet, _ in bodies} - complaint_ids
    cases = [e.id async for e in dev.client.list_workflows(f'TaskQueue="{queue}"')]
    assert sorted(cases) == sorted(f"case-x-{tweet}@automatic" for tweet in complaint_ids), (
        "one case each"
    )
    lines = [
        json.loads(line)
        for replica in replicas
        if replica.decision_log.exists()
        for line in replica.decision_log.read_text().splitlines()
    ]
    assert Counter(line["id"] for line in lines) == Counter(remark_ids), "one log line each"
    stored = await replicas[0].store.decisions()
    assert Counter(r["id"] for r in stored) == Counter(remark_ids | complaint_ids), "one row each"
    for replica in replicas:
        await replica.store.close()
    replies = Counter(p.in_reply_to for p in emulator.posts.values() if p.author_id == BRAND)
    assert replies == Counter(complaint_ids), "every case answered exactly once"

"""Two `serve` processes behind a round-robin (this test), sharing one decision store.

Every post is delivered three times, each delivery to the next replica, all at once: one case
per complaint, one store row and one decision-log line per remark, and the report agrees.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from complaintflow.devkit.stack import in_memory_temporal
from complaintflow.worker import build_worker
from tests.support.helpers import free_port
from tests.support.paths import EXAMPLE_POLICY
from tests.support.platform import Platform
from tests.support.postgres import fresh_database
from tests.support.processes import until_ready
from tests.support.webhooks import x_event, x_signature

pytestmark = pytest.mark.heavy  # a load and process test: left out of --quick

COMPLAINT = "@NorthwindCares charged twice and nobody answers. Unacceptable"
REMARK = "nice van today lol"
POSTS = 60
COPIES = 3


@pytest_asyncio.fixture
async def temporal() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server of its own, so the report sees only this test's cases."""
    environment = await in_memory_temporal()
    yield environment
    await environment.shutdown()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    return fresh_database(request.getfixturevalue("postgres_cluster"))


def environment(temporal: WorkflowEnvironment) -> dict[str, str]:
    return {
        **os.environ,
        "TEMPORAL_ADDRESS": temporal.client.service_client.config.target_host,
        "COMPLAINTFLOW_X_CONSUMER_SECRET": "x-secret",
    }


def start_replica(
    temporal: WorkflowEnvironment, database: str, log: Path, queue: str
) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "complaintflow",
            "serve",
            *("--policy", str(EXAMPLE_POLICY), "--port", str(port)),
            *("--decision-log", str(log), "--database", database, "--task-queue", queue),
            *("--log-format", "json"),
        ],
        env=environment(temporal),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, port


def posts() -> Iterator[tuple[str, str]]:
    rng = random.Random(13)
    for n in range(POSTS):
        yield f"31{n:04d}", COMPLAINT if rng.random() < 0.3 else REMARK
    # An id that is not even valid Unicode must not stall a replica: it is refused (400,
    # a lone surrogate) while the deliveries around it are taken.
    yield "bad\ud800", REMARK


async def test_two_replicas_and_redeliveries_give_one_case_and_one_row_each(
    temporal: WorkflowEnvironment, database: str, tmp_path: Path
) -> None:
    queue = "replicas"
    logs = [tmp_path / f"replica{n}" / "decisions.jsonl" for n in range(2)]
    replicas = [start_replica(temporal, database, log, queue) for log in logs]
    sent = list(posts())
    deliveries = [post for post in sent for _ in range(COPIES)]
    random.Random(7).shuffle(deliveries)
    answers: Counter[int] = Counter()
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            urls = [f"http://127.0.0.1:{port}" for _, port in replicas]
            for url in urls:
                await until_ready(http, url)
            balancer = itertools.cycle(urls)  # round-robin: each delivery to the next replica
            gate = asyncio.Semaphore(12)

            async def deliver(tweet: str, text: str) -> None:
                body = json.dumps(x_event(tweet, text)).encode()
                async with gate:
                    answer = await http.post(
                        f"{next(balancer)}/webhooks/x",
                        content=body,
                        headers={"x-twitter-webhooks-signature": x_signature(body)},
                    )
                answers[answer.status_code] += 1

            await asyncio.gather(*(deliver(tweet, text) for tweet, text in deliveries))
    finally:
        outputs = []
        for process, _ in replicas:
            process.send_signal(signal.SIGTERM)
            outputs.append(await asyncio.to_thread(process.communicate, timeout=60))
    assert [p.returncode for p, _ in replicas] == [0, 0], [err[-2000:] for _, err in outputs]
    assert answers == {200: len(deliveries) - COPIES, 400: COPIES}, answers
    sent = [(tweet, text) for tweet, text in sent if tweet.isdigit()]  # what was accepted

    complaints = sorted(
        f"case-x-{t}@northwind-social-care" for t, text in sent if text == COMPLAINT
    )
    remarks = Counter(t for t, text in sent if text == REMARK)
    runs = [e.id async for e in temporal.client.list_workflows(f'TaskQueue="{queue}"')]
    assert sorted(runs) == complaints, "one case, one run, per complaint"

    lines = [json.loads(line) for log in logs for line in log.read_text().splitlines()]
    assert Counter(line["id"] for line in lines) == remarks, "one decision-log line per remark"

    env = environment(temporal)
    exported = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "complaintflow", "export", "--database", database],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    rows = [json.loads(line) for line in exported.stdout.splitlines()]
    assert len(rows) == len(sent), "one store row per post"
    assert sorted(r["case"] for r in rows if "case" in r) == complaints

    async with build_worker(temporal.client, activities=Platform().activities(), task_queue=queue):
        report = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "complaintflow", "report", "--database", database],
            capture_output=True,
            text=True,
            check=False,
            env=env,
            timeout=120,
        )
    assert report.returncode == 0, report.stderr
    overall = next(line.split() for line in report.stdout.splitlines() if line.startswith("all"))
    assert overall[2] == str(len(complaints)), report.stdout
    assert overall[-1] == str(sum(remarks.values())), report.stdout

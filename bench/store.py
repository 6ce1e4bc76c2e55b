"""Ingest throughput with the decision store: webhooks/s on SQLite and PostgreSQL against the
old file log, and with one vs two `serve` replicas.

Part 1, in one process, throwaway remarks only (what the store changes): signed X webhooks
over loopback HTTP into the ingest app, 32 in flight. Baseline, same run: the JSON-lines
decision log with its in-memory duplicate check alone (what ingest did before the store).
Part 2: `serve` processes on a local dev server and one SQLite store, 15 % complaints (each a
case start), the deliveries spread round-robin over one, then two, replicas.
Run: python bench/store.py [--webhooks 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import structlog
from temporalio.client import Client

from complaintflow import load_policy
from complaintflow.devkit.pgcluster import PostgresMissing, cluster, fresh_database
from complaintflow.devkit.serve import serving
from complaintflow.devkit.stack import in_memory_temporal
from complaintflow.ingest.app import Ingest, IngestSecrets, create_app
from complaintflow.ingest.decisions import DecisionLog
from complaintflow.signatures import sign
from complaintflow.store import DecisionStore, Entry, open_store

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies.example.yaml"
BRAND = "1500000000000000001"
SECRET = "bench-x-secret"
COMPLAINT = "@NorthwindCares charged twice and nobody answers. Unacceptable"
REMARK = "nice van today lol"
IN_FLIGHT = 32


class FileLogOnly(DecisionStore):
    """The baseline: the JSON-lines log and its in-memory redelivery check, no database."""

    def __init__(self, path: Path) -> None:  # no database behind it
        self.log = DecisionLog(path)
        self.url = str(path)

    async def record(self, entry: Entry) -> bool:
        return await self.log.append({**entry.record, "platform": entry.platform})

    async def case_for(self, platform: str, mention_id: str, *, policy: str) -> str | None:
        return None

    async def close(self) -> None:
        return None


def body(tweet: str, text: str) -> bytes:
    event = {
        "for_user_id": BRAND,
        "tweet_create_events": [
            {
                "id_str": tweet,
                "text": text,
                "created_at": "Sun Nov 22 10:00:00 +0000 2026",
                "user": {"id_str": f"7{tweet}", "screen_name": "jo", "followers_count": 10},
            }
        ],
    }
    return json.dumps(event).encode()


def headers(raw: bytes) -> dict[str, str]:
    signature = sign(SECRET.encode(), raw, encoding="base64")
    return {"x-twitter-webhooks-signature": signature}


async def drive(urls: list[str], bodies: list[bytes]) -> float:
    """Post every body, round-robin over `urls`, IN_FLIGHT at a time; return webhooks/s."""
    balancer = itertools.cycle(urls)
    gate = asyncio.Semaphore(IN_FLIGHT)
    limits = httpx.Limits(max_connections=IN_FLIGHT * 2)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:

        async def post(raw: bytes) -> None:
            async with gate:
                answer = await http.post(
                    f"{next(balancer)}/webhooks/x", content=raw, headers=headers(raw)
                )
                if answer.status_code != 200:
                    raise RuntimeError(f"{answer.status_code}: {answer.text}")

        started = time.perf_counter()
        await asyncio.gather(*(post(raw) for raw in bodies))
        return len(bodies) / (time.perf_counter() - started)


async def in_process(client: Client, store: DecisionStore, bodies: list[bytes]) -> float:
    ingest = Ingest(
        client,
        load_policy(POLICY),
        task_queue="bench-store",
        secrets=IngestSecrets(x_consumer_secret=SECRET),
        store=store,
    )
    async with serving(create_app(ingest)) as url:
        rate = await drive([url], bodies)
    await store.close()
    return rate


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def replicas(
    count: int, client: Client, database: str, work: Path
) -> AsyncIterator[list[str]]:
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "COMPLAINTFLOW_X_CONSUMER_SECRET": SECRET,
    }
    processes, urls = [], []
    for n in range(count):
        port = free_port()
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "complaintflow",
                    "serve",
                    *("--policy", str(POLICY), "--port", str(port), "--database", database),
                    *("--decision-log", str(work / f"r{count}-{n}" / "d.jsonl")),
                    *("--task-queue", "bench-store", "--log-format", "json"),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        async with httpx.AsyncClient() as http:
            for url in urls:
                for _ in range(300):
                    with contextlib.suppress(httpx.TransportError):
                        if (await http.get(f"{url}/readyz")).status_code == 200:
                            break
                    await asyncio.sleep(0.1)
        yield urls
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)


def workload(prefix: str, count: int, complaints: float) -> list[bytes]:
    rng = random.Random(prefix)
    return [
        body(f"{prefix}{n:06d}", COMPLAINT if rng.random() < complaints else REMARK)
        for n in range(count)
    ]


async def main(webhooks: int) -> None:
    logging.disable(logging.CRITICAL)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    temporal = await in_memory_temporal()
    work = Path(tempfile.mkdtemp(prefix="bench-store-"))
    try:
        print(f"1) {webhooks} throwaway remarks through ingest, {IN_FLIGHT} in flight")
        stores: dict[str, Any] = {
            "file log (baseline)": lambda: FileLogOnly(work / "baseline.jsonl"),
            "SQLite store": lambda: open_store(f"sqlite:///{work / 'bench.db'}"),
        }
        with contextlib.ExitStack() as stack:
            try:
                pg = stack.enter_context(cluster())
                stores["PostgreSQL store"] = lambda: open_store(fresh_database(pg))
            except PostgresMissing as exc:
                print(f"   (PostgreSQL left out: {exc})")
            warm = open_store("sqlite:///:memory:")  # first-use costs (sentiment lexicon, policy)
            await in_process(temporal.client, warm, workload("69", 200, 0.0))
            rates = {}
            for n, (name, make) in enumerate(stores.items()):
                rates[name] = await in_process(
                    temporal.client, make(), workload(f"7{n}", webhooks, 0.0)
                )
            base = rates["file log (baseline)"]
            for name, rate in rates.items():
                print(f"   {name:22} {rate:7.0f} webhooks/s   {rate / base:5.2f}x baseline")

        print(f"2) {webhooks} webhooks, 15 % complaints, `serve` replicas on one SQLite store")
        database = f"sqlite:///{work / 'replicas.db'}"
        results = {}
        for count in (1, 2):
            async with replicas(count, temporal.client, database, work) as urls:
                results[count] = await drive(urls, workload(f"8{count}", webhooks, 0.15))
        print(f"   1 replica  {results[1]:7.0f} webhooks/s (baseline)")
        print(f"   2 replicas {results[2]:7.0f} webhooks/s   {results[2] / results[1]:5.2f}x")
    finally:
        await temporal.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--webhooks", type=int, default=3000)
    asyncio.run(main(parser.parse_args().webhooks))

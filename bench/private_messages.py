"""Ingest throughput for private messages against public mentions, in the same run.

In one process: signed X Account Activity webhooks over loopback HTTP into the ingest app
(SQLite store, a local dev server), 32 in flight. First `--cases` public complaints open
their cases (each a workflow start); then, interleaved in one stream, public remarks (a
store write each), public complaints (a start each) and direct messages from the authors of
the open cases (a store lookup and a `customer_contact` signal each). Each kind's rate is its
deliveries over the time that kind's deliveries took in that interleaved stream.
Run: python bench/private_messages.py [--webhooks 1500] [--cases 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
import tempfile
import time
from pathlib import Path

import httpx
import structlog

sys.path.insert(0, str(Path(__file__).resolve().parent))

from store import BRAND, COMPLAINT, IN_FLIGHT, POLICY, REMARK, SECRET, body, headers

from complaintflow import load_policy
from complaintflow.devkit.serve import serving
from complaintflow.devkit.temporal_server import in_memory_temporal
from complaintflow.ingest.app import Ingest, IngestSecrets, create_app
from complaintflow.store import open_store


def direct_message(message: str, sender: str) -> bytes:
    """One `direct_message_events` delivery from `sender` to the brand."""
    event = {
        "for_user_id": BRAND,
        "direct_message_events": [
            {
                "type": "message_create",
                "id": message,
                "created_timestamp": "1764000000000",
                "message_create": {
                    "target": {"recipient_id": BRAND},
                    "sender_id": sender,
                    "message_data": {"text": "order 4411, charged twice"},
                },
            }
        ],
        "users": {sender: {"id": sender, "name": "Jo", "screen_name": "jo"}},
    }
    return json.dumps(event).encode()


MATCHED: list[str] = []  # the cases the direct messages reached, as ingest answered


async def timed(http: httpx.AsyncClient, url: str, raw: bytes, gate: asyncio.Semaphore) -> float:
    async with gate:
        started = time.perf_counter()
        answer = await http.post(f"{url}/webhooks/x", content=raw, headers=headers(raw))
        spent = time.perf_counter() - started
        if answer.status_code != 200:
            raise RuntimeError(f"{answer.status_code}: {answer.text}")
        MATCHED.extend(c["case"] for c in answer.json().get("contacts", []) if c["case"])
        return spent


async def main(webhooks: int, cases: int) -> None:
    logging.disable(logging.CRITICAL)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    temporal = await in_memory_temporal()
    work = Path(tempfile.mkdtemp(prefix="bench-private-"))
    store = open_store(f"sqlite:///{work / 'bench.db'}")
    ingest = Ingest(
        temporal.client,
        load_policy(POLICY),
        task_queue="bench-private",
        secrets=IngestSecrets(x_consumer_secret=SECRET),
        store=store,
    )
    gate = asyncio.Semaphore(IN_FLIGHT)
    try:
        async with (
            serving(create_app(ingest)) as url,
            httpx.AsyncClient(
                timeout=60, limits=httpx.Limits(max_connections=IN_FLIGHT * 2)
            ) as http,
        ):
            openers = [body(f"5{n:06d}", COMPLAINT) for n in range(cases)]
            await asyncio.gather(*(timed(http, url, raw, gate) for raw in openers))
            rng = random.Random(24)
            stream: list[tuple[str, bytes]] = []
            for n in range(webhooks):
                kind = rng.choice(("remark", "complaint", "dm"))
                if kind == "remark":
                    stream.append((kind, body(f"6{n:06d}", REMARK)))
                elif kind == "complaint":
                    stream.append((kind, body(f"7{n:06d}", COMPLAINT)))
                else:  # the author of an open case (bench/store.py's user ids: "7" + tweet id)
                    author = f"75{rng.randrange(cases):06d}"
                    stream.append((kind, direct_message(f"8{n:06d}", author)))
            started = time.perf_counter()
            spent = await asyncio.gather(*(timed(http, url, raw, gate) for _, raw in stream))
            wall = time.perf_counter() - started
        print(f"{webhooks} webhooks interleaved after {cases} cases opened, {IN_FLIGHT} in flight")
        print(f"   all kinds {webhooks / wall:7.0f} webhooks/s")
        for kind in ("remark", "complaint", "dm"):
            times = [t for (k, _), t in zip(stream, spent, strict=True) if k == kind]
            mean = sum(times) / len(times)
            print(
                f"   {kind:9} {len(times):5d} deliveries, mean {mean * 1000:6.1f} ms each,"
                f" {IN_FLIGHT / mean:7.0f} webhooks/s at {IN_FLIGHT} in flight"
            )
        sent = sum(1 for k, _ in stream if k == "dm")
        print(f"   {len(MATCHED)} of {sent} direct messages signalled to their author's case")
    finally:
        await store.close()
        await temporal.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--webhooks", type=int, default=1500)
    parser.add_argument("--cases", type=int, default=300)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.webhooks, arguments.cases))

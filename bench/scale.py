"""Scale: N open cases waiting for a supervisor, on a local Temporal dev server (in memory).

The worker is the real `complaintflow worker` process calling the platform emulator. Prints:
- how fast the cases open and reach "awaiting approval";
- worker RSS with every case cached (cache >= N), and with the default cache of 1,000;
- listing the awaiting-approval cases through visibility: the first page (what the Web UI and
  `complaintflow cases` show) and all N, against a bare count of the same query;
- one approval taking effect (update sent -> reply posted on the emulated X), p50 / p99, for a
  case still in the worker's cache (the baseline) and for one evicted from it (replayed).
Run: python bench/scale.py [--cases 10000] [--approvals 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from temporalio.client import Client

from complaintflow import load_policy
from complaintflow.client.cases import case_key, list_cases, open_case
from complaintflow.devkit.emulator import X_CLIENT_ID, EmulatorState, create_app
from complaintflow.devkit.serve import serving
from complaintflow.devkit.stack import (
    connect_emulated_x,
    emulator_for,
    in_memory_temporal,
    publish,
)
from complaintflow.platforms.credentials import TokenStore
from complaintflow.rules.mention import Author, Mention
from complaintflow.rules.model import CompiledPolicy
from complaintflow.rules.triage import Triage
from complaintflow.workflows import search
from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.messages import SupervisorAction

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "policies.example.yaml"
QUEUE = "scale"
AWAITING = f"WorkflowType = 'CaseWorkflow' AND {search.CASE_AWAITING_APPROVAL.name} = true"


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Worker:
    """`complaintflow worker` as a process, wired to the emulator."""

    def __init__(self, address: str, emulator_url: str, token: str) -> None:
        tokens = TokenStore(Path(tempfile.mkdtemp(prefix="complaintflow-bench-")) / "t.db")
        connect_emulated_x(tokens, token)
        self.env = {
            **os.environ,
            "TEMPORAL_ADDRESS": address,
            "COMPLAINTFLOW_TASK_QUEUE": QUEUE,
            "COMPLAINTFLOW_X_API_URL": f"{emulator_url}/x",
            # X writes need the brand's user-context token (as after `connect x`).
            "COMPLAINTFLOW_X_CLIENT_ID": X_CLIENT_ID,
            "COMPLAINTFLOW_TOKEN_STORE": str(tokens.path),
            "COMPLAINTFLOW_SLACK_WEBHOOK_URL": f"{emulator_url}/slack/scale",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, cache: int) -> None:
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "complaintflow", "worker", "--log-format", "json"),
                *("--max-cached-workflows", str(cache)),
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(60)

    @property
    def rss(self) -> float:
        assert self.process is not None
        return rss_mib(self.process.pid)


def complaint(n: int) -> Mention:
    return Mention(
        id=str(7_000_000_000 + n),  # X ids are digits
        text=f"@NorthwindCares order {n} never arrived, I want a refund",
        platform="x",
        author=Author(
            id=str(8_000_000 + n), handle=f"customer{n}", name=f"Customer {n}", followers=90
        ),
    )


async def open_all(
    client: Client, emulator: EmulatorState, policy: CompiledPolicy, count: int, concurrency: int
) -> float:
    triage = Triage(policy)
    gate = asyncio.Semaphore(concurrency)

    async def one(n: int) -> None:
        mention = complaint(n)
        publish(emulator, mention)
        async with gate:
            await open_case(
                client,
                mention=mention,
                decision=triage.decide(mention),
                policy=policy,
                task_queue=QUEUE,
            )

    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(count)))
    return time.perf_counter() - started


async def until_awaiting(client: Client, count: int, *, seconds: float) -> float:
    started = time.perf_counter()
    while (await client.count_workflows(AWAITING)).count < count:
        if time.perf_counter() - started > seconds:
            raise SystemExit(f"the cases did not all reach approval within {seconds:.0f} s")
        await asyncio.sleep(0.5)
    return time.perf_counter() - started


async def approve(client: Client, emulator: EmulatorState, n: int) -> float:
    """Seconds from sending the approval to the reply being on the emulated X."""
    mention = complaint(n)
    before = len(emulator.posts)
    started = time.perf_counter()
    handle = client.get_workflow_handle_for(
        CaseWorkflow.run, case_key(mention, "northwind-social-care")
    )
    answer = await handle.execute_update(
        CaseWorkflow.approve, SupervisorAction(step="reply_acknowledge", by="bench")
    )
    assert answer, "the approval was taken"
    while not any(p.in_reply_to == mention.id for p in list(emulator.posts.values())[before - 1 :]):
        if time.perf_counter() - started > 60:
            raise SystemExit(f"case {n}: no reply 60 s after the approval")
        await asyncio.sleep(0.001)
    return time.perf_counter() - started


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p99, cut as bench/cases.py and bench/latency.py cut them."""
    return statistics.median(samples), statistics.quantiles(samples, n=100)[98]


async def main(count: int, approvals: int, concurrency: int) -> None:
    policy = load_policy(EXAMPLE)
    token = secrets.token_hex(8)
    emulator = emulator_for(policy, token)
    rng = random.Random(1)
    environment = await in_memory_temporal()
    client = environment.client
    async with serving(create_app(emulator)) as url:
        worker = Worker(client.service_client.config.target_host, url, token)
        try:
            worker.start(cache=count + 1000)
            await asyncio.sleep(3)
            idle = worker.rss
            opened = await open_all(client, emulator, policy, count, concurrency)
            waiting = await until_awaiting(client, count, seconds=3600)
            print(
                f"{count} cases opened in {opened:.1f} s ({count / opened:.0f}/s); all awaiting "
                f"approval {waiting:.1f} s later ({count / (opened + waiting):.0f} cases/s)"
            )
            await asyncio.sleep(2)
            rss_all = worker.rss
            print(
                f"worker RSS: {idle:.0f} MiB idle; {rss_all:.0f} MiB with all {count} cases "
                f"cached ({(rss_all - idle) * 1024 / count:.0f} KiB per cached case)"
            )

            started = time.perf_counter()
            counted = (await client.count_workflows(AWAITING)).count
            count_s = time.perf_counter() - started
            started = time.perf_counter()
            page = await list_cases(client, awaiting_approval=True, limit=100)
            page_s = time.perf_counter() - started
            started = time.perf_counter()
            every = await list_cases(client, awaiting_approval=True, limit=count)
            all_s = time.perf_counter() - started
            print(
                f"visibility: count {counted} in {count_s * 1000:.0f} ms (baseline); first "
                f"page of {len(page)} in {page_s * 1000:.0f} ms ({page_s / count_s:.1f}x); "
                f"all {len(every)} in {all_s:.2f} s ({all_s / count_s:.0f}x)"
            )

            picks = rng.sample(range(count), 2 * approvals)
            warm = [await approve(client, emulator, n) for n in picks[:approvals]]
            worker.stop()
            worker.start(cache=1000)
            await asyncio.sleep(3)
            cold = [await approve(client, emulator, n) for n in picks[approvals:]]
            rss_default = worker.rss
            warm_p50, warm_p99 = percentiles(warm)
            cold_p50, cold_p99 = percentiles(cold)
            print(
                f"approval -> reply posted, case cached: p50 {warm_p50 * 1000:.0f} ms, "
                f"p99 {warm_p99 * 1000:.0f} ms (baseline)"
            )
            print(
                f"approval -> reply posted, case replayed from history (fresh worker, cache "
                f"1000): p50 {cold_p50 * 1000:.0f} ms, p99 {cold_p99 * 1000:.0f} ms "
                f"({cold_p50 / warm_p50:.1f}x)"
            )
            print(
                f"worker RSS with the default cache of 1,000 after {approvals} approvals: "
                f"{rss_default:.0f} MiB"
            )
        finally:
            worker.stop()
    await environment.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--approvals", type=int, default=30)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    asyncio.run(main(args.cases, args.approvals, args.concurrency))
    os._exit(0)  # the SDK's native runtime may crash while Python finalizes

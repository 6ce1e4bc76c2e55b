"""Checks the capacity model (docs/capacity.md) on this machine: cases/s with two workers,
predicted from a one-worker run's CPU cost per case, against what two workers measure.

One local dev server (in memory); workers are separate processes (`--worker`) running the
case workflow with instant activity doubles and the automatic policy of bench/cases.py (notify,
reply, handoff, ticket, close: no human). Run 1: one worker; the CPU seconds the worker, the
server and this process (the starter) spent per case give the model's unit costs. The model:

    cases/s = min(workers / worker_cpu_per_case, cores / total_cpu_per_case)

(a worker is one Python process: at most one core). Run 2: two workers, the same cases;
printed next to the prediction.
Run: python bench/capacity.py [--cases 400] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from cases import AUTOMATIC, _activities, mention  # beside this file

from complaintflow import compile_policy
from complaintflow.cases import open_case
from complaintflow.devkit.stack import in_memory_temporal
from complaintflow.rules.triage import Triage
from complaintflow.worker import DATA_CONVERTER, build_worker

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(p) for p in text)
    return found


async def run_worker(address: str, queue: str) -> None:
    from temporalio.client import Client

    client = await Client.connect(address, data_converter=DATA_CONVERTER)
    async with build_worker(client, activities=_activities(), task_queue=queue):
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until closed


async def one_round(env: object, workers: int, count: int, concurrency: int) -> dict[str, float]:
    client = env.client  # type: ignore[attr-defined]
    address = client.service_client.config.target_host
    queue = f"cap-{uuid.uuid4().hex[:6]}"
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", address, queue],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    policy = compile_policy(AUTOMATIC)
    triage = Triage(policy)
    server = [p for p in children(os.getpid()) if p not in {w.pid for w in procs}]
    before = {
        "worker": sum(cpu_seconds(p.pid) for p in procs),
        "server": sum(cpu_seconds(p) for p in server),
        "starter": time.process_time(),
    }
    gate = asyncio.Semaphore(concurrency)
    prefix = uuid.uuid4().hex[:6]

    async def one(n: int) -> None:
        async with gate:
            m = mention(n, prefix)
            handle = await open_case(
                client, mention=m, decision=triage.decide(m), policy=policy, task_queue=queue
            )
            await handle.result()

    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(count)))
    wall = time.perf_counter() - started
    spent = {
        "worker": sum(cpu_seconds(p.pid) for p in procs) - before["worker"],
        "server": sum(cpu_seconds(p) for p in server) - before["server"],
        "starter": time.process_time() - before["starter"],
    }
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=30)
    return {"rate": count / wall, **{k: v / count for k, v in spent.items()}}


async def main(count: int, concurrency: int) -> None:
    env = await in_memory_temporal()
    try:
        await one_round(env, 1, min(100, count), concurrency)  # warm-up
        one = await one_round(env, 1, count, concurrency)
        cores = os.cpu_count() or 1
        total = one["worker"] + one["server"] + one["starter"]
        print(f"cores {cores} (shared with other work: numbers are indicative)")
        print(
            f"1 worker: {one['rate']:.1f} cases/s; CPU ms per case: worker "
            f"{1000 * one['worker']:.1f}, server {1000 * one['server']:.1f}, starter "
            f"{1000 * one['starter']:.1f} (total {1000 * total:.1f})"
        )
        model_one = min(1 / one["worker"], cores / total)
        print(f"  model for 1 worker: {model_one:.1f} cases/s (consistency check)")
        predicted = min(2 / one["worker"], cores / total)
        two = await one_round(env, 2, count, concurrency)
        print(f"2 workers predicted: {predicted:.1f} cases/s")
        print(
            f"2 workers measured:  {two['rate']:.1f} cases/s "
            f"({two['rate'] / predicted:.2f}x the prediction; "
            f"{two['rate'] / one['rate']:.2f}x one worker)"
        )
    finally:
        await env.shutdown()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        asyncio.run(run_worker(sys.argv[2], sys.argv[3]))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=50)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.cases, arguments.concurrency))

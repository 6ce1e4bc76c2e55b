"""Codec overhead: cases/s with every payload AES-GCM encrypted vs the same cases in the clear.

One local dev server, two workers (each on its own task queue and client: one with the
encryption codec, one without), the automatic policy of bench/cases.py; rounds alternate so
that drift on a shared machine hits both alike.
Run: python bench/codec.py [--cases 150] [--concurrency 30]
"""

from __future__ import annotations

import argparse
import asyncio
import uuid

from cases import AUTOMATIC, _activities, _run_all, mention  # beside this file
from temporalio.client import Client

from complaintflow import compile_policy
from complaintflow.client.cases import open_case
from complaintflow.codec.keys import Keyring, data_converter
from complaintflow.devkit.stack import in_memory_temporal
from complaintflow.rules.triage import Triage
from complaintflow.worker import build_worker


async def main(cases: int, concurrency: int) -> None:
    env = await in_memory_temporal()
    address = env.client.service_client.config.target_host
    plain = await Client.connect(address, data_converter=data_converter(None))
    sealed = await Client.connect(
        address, data_converter=data_converter(Keyring.parse(Keyring.new_key_text("bench")))
    )
    policy = compile_policy(AUTOMATIC)
    triage = Triage(policy)
    try:
        async with (
            build_worker(plain, activities=_activities(), task_queue="plain"),
            build_worker(sealed, activities=_activities(), task_queue="sealed"),
        ):

            def runner(client: Client, queue: str, run: str):  # type: ignore[no-untyped-def]
                async def one(n: int) -> None:
                    m = mention(n, f"{queue}-{run}")
                    handle = await open_case(
                        client,
                        mention=m,
                        decision=triage.decide(m),
                        policy=policy,
                        task_queue=queue,
                    )
                    await handle.result()

                return one

            for client, queue in ((plain, "plain"), (sealed, "sealed")):  # warm up
                await _run_all(10, 10, runner(client, queue, "warm"))
            seconds = {"plain": 0.0, "sealed": 0.0}
            rounds = 3
            per_round = max(1, cases // rounds)
            for _ in range(rounds):
                run = uuid.uuid4().hex[:6]
                for client, queue in ((plain, "plain"), (sealed, "sealed")):
                    seconds[queue] += await _run_all(
                        per_round, concurrency, runner(client, queue, run)
                    )
            done = per_round * rounds
            clear, encrypted = done / seconds["plain"], done / seconds["sealed"]
            print(f"cases in the clear (baseline)   {clear:7.1f} cases/s")
            print(f"cases with the AES-GCM codec    {encrypted:7.1f} cases/s")
            print(f"ratio encrypted/clear           {encrypted / clear:7.2f}  (aim >= 0.90)")
    finally:
        await env.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=150)
    parser.add_argument("--concurrency", type=int, default=30)
    options = parser.parse_args()
    asyncio.run(main(options.cases, options.concurrency))

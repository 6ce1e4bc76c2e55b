"""How long a case workflow's activations take with the largest inputs anyone may send (I7).

Temporal fails a workflow task whose activation has not yielded within 2 seconds (deadlock
detection), and on a busy worker that task is lost work. A case opened with the longest
complaint ingest keeps, then flooded as an attacker or a viral thread would: bursts of 50
later posts of 250,000 characters each (sent as ingest sends them), events, contact signals and
bad signals with 200 KB payloads, refused edits of 10,000 characters; then approved and closed.
Every activation is timed (devkit.activations.TimedRunner). The baseline, in the same run: a
bare workflow that only counts the same bursts of signals.

Prints p50, p99 and max activation time (ms) for the case and the baseline, their ratio, and
the max against the 2 s deadline; `--load` runs it again with both cores busy (two spinning
processes). Run: python bench/activation.py [--posts N] [--load]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import multiprocessing
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from bare_workflow import BareListener  # beside this file: imported by name in the sandbox
from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.worker import Worker

from complaintflow import load_policy
from complaintflow.client.cases import open_case, thread_post
from complaintflow.devkit.activations import DEADLOCK_SECONDS, ActivationTimes, TimedRunner
from complaintflow.devkit.stack import in_memory_temporal
from complaintflow.rules.mention import Author, Mention
from complaintflow.rules.triage import Triage
from complaintflow.worker import build_worker, workflow_runner
from complaintflow.workflows import registry
from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.messages import (
    FIELD_LIMITS,
    ActionRequest,
    ActionResult,
    CaseState,
    SupervisorAction,
)

EXAMPLE = Path(__file__).resolve().parent.parent / "policies.example.yaml"

BURST = 50
HUGE = 250_000  # characters of each later post (ingest takes bodies up to 256 KiB)


def _activities() -> list[object]:
    def double(name: str) -> object:
        @activity.defn(name=name)
        async def run(request: ActionRequest) -> ActionResult:
            return ActionResult(ref=f"{request.step_id}-ok")

        return run

    return [double(name) for name in registry.ALL_ACTIVITIES]


def _complaint(tag: str) -> Mention:
    return Mention(
        id=f"act-{tag}",
        text="@NorthwindCares charged twice, refund now. " + "still broken " * 1_900,
        platform="x",
        author=Author(id="77", handle="h" * 15, name="N" * 50, followers=100),
        sentiment=-0.8,
    )


async def _flood_case(client: Client, queue: str, posts: int) -> None:
    policy = load_policy(EXAMPLE)
    first = _complaint(uuid.uuid4().hex[:8])
    decision = Triage(policy).decide(first)
    handle = await open_case(
        client, mention=first, decision=decision, policy=policy, task_queue=queue
    )
    for start in range(1, posts + 1, BURST):
        await asyncio.gather(
            *(
                handle.signal(
                    CaseWorkflow.thread_update,
                    thread_post(
                        dataclasses.replace(first, id=f"{first.id}-{n}", text="x" * HUGE),
                        decision,
                    ),
                )
                for n in range(start, min(posts + 1, start + BURST))
            )
        )
    big = "b" * 200_000
    for n in range(BURST):
        await handle.signal("event", {"name": f"e{n % 3}", "by": "b" * FIELD_LIMITS["by"]})
        await handle.signal("customer_contact", {"channel": "email", "reference": big})
        await handle.signal("approve_signal", {"step": big, "by": big})
    while (await handle.query(CaseWorkflow.state_query)).pending is None:
        await asyncio.sleep(0.05)
    state: CaseState = await handle.query(CaseWorkflow.state_query)
    assert state.pending is not None
    for _ in range(20):
        edit = SupervisorAction(step=state.pending.step, by="bench", text="e" * 10_000)
        # Refused (too long for the platform), after its validator ran in an activation.
        with suppress(WorkflowUpdateFailedError):
            _ = await handle.execute_update(CaseWorkflow.edit, edit)
    _ = await handle.execute_update(CaseWorkflow.close, SupervisorAction(by="bench"))
    await handle.result()


async def _flood_bare(client: Client, queue: str, posts: int) -> None:
    handle = await client.start_workflow(
        BareListener.run, id=f"bare-{uuid.uuid4().hex[:8]}", task_queue=queue
    )
    first = _complaint("bare")
    for start in range(1, posts + 1, BURST):
        await asyncio.gather(
            *(
                handle.signal("thread_update", thread_post(first, None))
                for _ in range(start, min(posts + 1, start + BURST))
            )
        )
    await handle.signal("stop")
    await handle.result()


def _line(label: str, times: ActivationTimes) -> str:
    ms = [times.quantile(q) * 1000 for q in (0.5, 0.99)]
    worst, jobs = times.slowest()
    return (
        f"{label:<9} {len(times.seconds):>5} activations  p50 {ms[0]:6.2f} ms  "
        f"p99 {ms[1]:6.2f} ms  max {worst * 1000:7.2f} ms  (slowest: {', '.join(jobs)[:60]})"
    )


async def measure(client: Client, posts: int, label: str) -> None:
    case_times, bare_times = ActivationTimes(), ActivationTimes()
    queue = f"act-{uuid.uuid4().hex[:8]}"
    async with build_worker(
        client,
        activities=_activities(),  # type: ignore[arg-type]  # activity callables
        task_queue=queue,
        runner=TimedRunner(workflow_runner(), case_times),
    ):
        await _flood_case(client, queue, posts)
    bare_queue = f"{queue}-bare"
    async with Worker(
        client,
        task_queue=bare_queue,
        workflows=[BareListener],
        workflow_runner=TimedRunner(workflow_runner(), bare_times),
    ):
        await _flood_bare(client, bare_queue, posts)
    print(f"\n{label}")
    print(_line("case", case_times))
    print(_line("bare", bare_times))
    p99 = case_times.quantile(0.99) / max(bare_times.quantile(0.99), 1e-9)
    worst = case_times.slowest()[0]
    print(
        f"case/bare p99 {p99:.2f}x; case max {worst * 1000:.1f} ms = "
        f"{worst / DEADLOCK_SECONDS:.1%} of the {DEADLOCK_SECONDS:.0f} s deadlock deadline"
    )


def _spin() -> None:
    while True:
        pass


@contextmanager
def busy_cores(count: int) -> Iterator[None]:
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(count)]
    for spinner in spinners:
        spinner.start()
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.terminate()
            spinner.join()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=400)
    parser.add_argument("--load", action="store_true", help="also run with both cores busy")
    args = parser.parse_args()
    env = await in_memory_temporal()
    try:
        started = time.perf_counter()
        await measure(env.client, args.posts, f"quiet machine, {args.posts} posts")
        print(f"({time.perf_counter() - started:.1f} s)")
        if args.load:
            with busy_cores(2):
                await measure(env.client, args.posts, "both cores busy (two spinning processes)")
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main())

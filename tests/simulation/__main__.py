"""`python -m tests.simulation --minutes N --seed S`: seeded random histories for N minutes;
prints every violation with the (greedily shrunk) history that shows it, and steps per second.
The same seed draws the same histories."""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import sys
import time

from temporalio.testing import WorkflowEnvironment

from tests.simulation.runner import Outcome, known, replay, start_server
from tests.simulation.steps import Step, random_history, script


def _kind(violation: str) -> str:
    """What makes two violations the same finding: the invariant and the known item (or the
    message with its numbers and ids left out)."""
    return f"{violation[:2]} {known(violation) or re.sub(r'[0-9]+', 'N', violation[4:])[:60]}"


async def _shrunk(
    env: WorkflowEnvironment, steps: list[Step], kind: str, budget: int
) -> list[Step]:
    """`steps` with every step removed that the finding does not need (one at a time)."""
    index = 0
    while index < len(steps) and budget > 0:
        candidate = steps[:index] + steps[index + 1 :]
        budget -= 1
        outcome = await replay(env, candidate, stop_at_first=False)
        if any(_kind(v) == kind for _, v in outcome.violations):
            steps = candidate
        else:
            index += 1
    return steps


async def _run(minutes: float, seed: int, length: int, shrink: int, budget: float) -> int:
    env = await start_server()
    rng = random.Random(seed)
    deadline = time.monotonic() + minutes * 60
    started, histories, steps_run = time.monotonic(), 0, 0
    findings: dict[str, list[Step]] = {}
    fresh: set[str] = set()  # the findings no KNOWN pattern names
    activations: list[float] = []
    try:
        while time.monotonic() < deadline:
            history_seed = rng.randrange(2**32)
            draw = random.Random(history_seed)
            steps = random_history(draw, length)
            outcome: Outcome = await replay(
                env, steps, seed=history_seed, stop_at_first=False, activation_budget=budget
            )
            activations += outcome.activations
            histories += 1
            steps_run += len(outcome.steps)
            for number, violation in outcome.violations:
                kind = _kind(violation)
                if kind in findings:
                    continue
                short = await _shrunk(env, steps[: number + 1], kind, shrink)
                findings[kind] = short
                if known(violation) is None:
                    fresh.add(kind)
                print(
                    f"\nFOUND ({known(violation) or 'new'}) in history seed {history_seed}, "
                    f"shrunk from {number + 1} to {len(short)} steps:\n  {violation}\n"
                    f"{script(short)}",
                    flush=True,
                )
    finally:
        await env.shutdown()
    elapsed = time.monotonic() - started
    new = [k for k in findings if k in fresh]
    print(
        f"\n{histories} histories, {steps_run} steps in {elapsed:.0f} s "
        f"({steps_run / elapsed:.2f} steps/s, shrinking included); "
        f"{len(findings)} distinct violations ({len(new)} not known)"
    )
    for kind, short in findings.items():
        print(f"  {kind}: {len(short)} steps")
    if len(activations) > 1:
        p99 = statistics.quantiles(activations, n=100)[98]
        print(
            f"workflow tasks: {len(activations)}, p99 {p99:.1f} ms, max {max(activations):.1f} ms"
        )
    return 1 if findings else 0


def _hypothesis(examples: int, length: int) -> int:
    """The state machine, failing on any violation (known ones too): hypothesis shrinks the
    first failing history and prints it."""
    from hypothesis import HealthCheck, settings
    from hypothesis.stateful import run_state_machine_as_test

    from tests.simulation.machine import Simulation
    from tests.simulation.runner import Loop

    loop = Loop()
    env = loop.run(start_server())
    Simulation.loop, Simulation.env, Simulation.fail_on_known = loop, env, True
    budget = settings(
        max_examples=examples,
        stateful_step_count=length,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    try:
        run_state_machine_as_test(Simulation, settings=budget)
    except AssertionError as failure:
        print(f"FOUND, shrunk by hypothesis:\n{failure}")
        return 1
    finally:
        loop.run(env.shutdown())
        loop.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.simulation", description=__doc__)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--hours", type=float, default=0.0, help="added to --minutes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=25, help="steps per history")
    parser.add_argument("--shrink", type=int, default=40, help="replays spent shrinking each")
    parser.add_argument(
        "--activation-budget", type=float, default=1000.0, help="ms a workflow task may take"
    )
    parser.add_argument(
        "--hypothesis",
        type=int,
        default=0,
        metavar="EXAMPLES",
        help="instead: run the hypothesis state machine for this many histories, failing on "
        "the first violation (known ones too), and print its shrunk history",
    )
    args = parser.parse_args(argv)
    if args.hypothesis:
        return _hypothesis(args.hypothesis, args.steps)
    minutes = args.minutes + 60 * args.hours
    return asyncio.run(_run(minutes, args.seed, args.steps, args.shrink, args.activation_budget))


if __name__ == "__main__":
    sys.exit(main())

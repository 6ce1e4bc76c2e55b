"""Running histories: one asyncio loop in a background thread (Temporal's client, the workers
and the servers live on it; hypothesis drives it from plain synchronous rules), the Temporal
time-skipping server, and `replay`, which runs a list of steps and checks the invariants
after each one."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from temporalio.testing import WorkflowEnvironment

from tests.simulation import invariants
from tests.simulation.steps import Step, script
from tests.simulation.world import STEP_BOUND, World

T = TypeVar("T")

# Violations of defects the "promises kept by construction" fixes remove, by issue-19 item.
# They are reported, not failed on, until those fixes are on this branch: delete each entry
# as its fix lands (the regressions/ tests then pass and lose their xfail).
KNOWN: dict[str, str] = {
    # A violation pattern of a defect found and not yet fixed -> the issue it belongs to; the
    # CI run reports it without failing. Fixed so far: issue 19 items 1, 2, 4, 7, 9, 12, 15; a
    # dismiss after open; an approval deadline across continue-as-new; a post retried after a
    # 503 once its case ended. A new entry here is a new defect to fix.
}


def known(violation: str) -> str | None:
    """The issue-19 item `violation` belongs to, if it is one of the known defects."""
    import re

    return next((item for p, item in KNOWN.items() if re.match(p, violation)), None)


class Loop:
    """An asyncio loop running in a daemon thread; `run` waits for a coroutine on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = STEP_BOUND) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


async def start_server() -> WorkflowEnvironment:
    """The time-skipping test server with the case search attributes, as the tests use it."""
    from tests.support.fixtures import _time_skipping

    return await _time_skipping()


@dataclasses.dataclass
class Outcome:
    """What a history did: the steps run and every violation, with the step that showed it."""

    steps: list[Step]
    violations: list[tuple[int, str]]
    activations: list[float] = dataclasses.field(default_factory=list)  # ms

    def unknown(self) -> list[tuple[int, str]]:
        return [(n, v) for n, v in self.violations if known(v) is None]

    def report(self) -> str:
        lines = [
            f"after step {n + 1}: {v}" + (f"  [{known(v)}]" if known(v) else "")
            for n, v in self.violations
        ]
        return "\n".join([*lines, "the history, as a script:", script(self.steps)])


async def replay(
    env: WorkflowEnvironment,
    steps: list[Step],
    *,
    seed: int = 0,
    stop_at_first: bool = True,
    activation_budget: float | None = None,
) -> Outcome:
    """Run `steps` on a fresh World; the invariants are checked after each one."""
    outcome = Outcome([], [])
    async with World(env, seed=seed, activation_budget=activation_budget) as world:
        outcome.activations = world.model.activations
        for number, step in enumerate(steps):
            outcome.steps.append(step)
            await world.apply(step)
            seen = {v for _, v in outcome.violations}
            for violation in await invariants.check(world):
                if violation not in seen:
                    outcome.violations.append((number, violation))
            if stop_at_first and outcome.violations:
                break
    return outcome


def assert_holds(simulation: tuple[Loop, WorkflowEnvironment], steps: list[Step]) -> None:
    """Replay `steps` (a regression test's history); fail with the report on any violation."""
    loop, env = simulation
    outcome = loop.run(replay(env, steps, stop_at_first=False))
    assert not outcome.violations, outcome.report()

"""Randomised histories of the whole system (hypothesis state machine), a fixed small budget in
the full run; `python -m tests.simulation --minutes N` runs long and seeded."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test
from temporalio.testing import WorkflowEnvironment

from tests.simulation.machine import Simulation
from tests.simulation.runner import Loop

pytestmark = pytest.mark.heavy

# About a minute on a 2-core machine: each history builds a fresh deployment (two workers, two
# emulators, the brands app) and checks every invariant after each of its steps.
BUDGET = settings(
    max_examples=12,
    stateful_step_count=14,
    deadline=None,
    derandomize=True,  # the same histories every run: CI is a fixed budget, not a lottery
    suppress_health_check=list(HealthCheck),
)


def test_no_history_breaks_a_promise(simulation: tuple[Loop, WorkflowEnvironment]) -> None:
    """Whatever customers, supervisors, policy edits, platform faults and time do, every
    invariant I1-I7 holds after every step (known issue-19 defects are reported, not failed)."""
    Simulation.loop, Simulation.env = simulation
    Simulation.fail_on_known = False
    run_state_machine_as_test(Simulation, settings=BUDGET)

"""Unauthenticated POSTs to made-up /webhooks/ paths must not add a /metrics series each. Found by
the simulator; shrunk to this history."""

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.simulation.runner import Loop, assert_holds
from tests.simulation.steps import Step

pytestmark = pytest.mark.heavy

STEPS = [
    Step.of("probe_paths", count=40),
]


def test_posts_to_made_up_paths_do_not_grow_metrics(
    simulation: tuple[Loop, WorkflowEnvironment],
) -> None:
    assert_holds(simulation, STEPS)

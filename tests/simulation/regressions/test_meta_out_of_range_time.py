"""A Meta delivery with one comment whose created_time is 10**15 beside good ones: the good
comments must be taken (2xx), not lost with a 400. Found by the simulator; shrunk to this
history."""

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.simulation.runner import Loop, assert_holds
from tests.simulation.steps import Step

pytestmark = pytest.mark.heavy

STEPS = [
    Step.of("post_meta", bad_time=True, brand="a", extra=1, followup=False, text=0, thread=0),
]


def test_good_meta_entries_beside_an_out_of_range_created_time_are_taken(
    simulation: tuple[Loop, WorkflowEnvironment],
) -> None:
    assert_holds(simulation, STEPS)

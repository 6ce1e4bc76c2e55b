"""One tweet naming two brands of a multi-brand deployment is delivered to each: each brand must
record it and get its own case. Found by the simulator; shrunk to this history."""

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.simulation.runner import Loop, assert_holds
from tests.simulation.steps import Step

pytestmark = pytest.mark.heavy

STEPS = [
    Step.of("post_x", brands="ab", followup=False, loud=False, text=0, thread=0),
]


def test_a_tweet_delivered_to_two_brands_is_a_case_for_each(
    simulation: tuple[Loop, WorkflowEnvironment],
) -> None:
    assert_holds(simulation, STEPS)

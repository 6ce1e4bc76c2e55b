"""X commits the brand's reply and the answer is lost; the retry must find the reply (X shows it
with the customer's @username in front) instead of posting a second one. Found by the simulator;
shrunk to this history."""

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.simulation.runner import Loop, assert_holds
from tests.simulation.steps import Step

pytestmark = pytest.mark.heavy

STEPS = [
    Step.of("fault", brand="a", fault="drop", route="x.post_tweet"),
    Step.of("post_x", brands="a", followup=False, loud=True, text=0, thread=0),
    Step.of("sleep", seconds=3600),
]


def test_an_x_reply_whose_answer_was_lost_is_not_posted_twice(
    simulation: tuple[Loop, WorkflowEnvironment],
) -> None:
    assert_holds(simulation, STEPS)

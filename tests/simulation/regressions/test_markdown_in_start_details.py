"""A complaint carrying Markdown links, images and a forged heading: the summary and details the
case starts with must show it escaped. Found by the simulator; shrunk to this history."""

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.simulation.runner import Loop, assert_holds
from tests.simulation.steps import Step

pytestmark = pytest.mark.heavy

STEPS = [
    Step.of("post_generic", brand="b", text=4),
]


def test_customer_markdown_is_escaped_in_the_details_a_case_starts_with(
    simulation: tuple[Loop, WorkflowEnvironment],
) -> None:
    assert_holds(simulation, STEPS)

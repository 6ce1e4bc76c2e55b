"""A supervisor routes an unread (Spanish) case with a 5,000-character `by`: the CaseRoute search
attribute must stay within 2,048 bytes (a real server terminates the case). Found by the
simulator; shrunk to this history."""

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.simulation.runner import Loop, assert_holds
from tests.simulation.steps import Step

pytestmark = pytest.mark.heavy

STEPS = [
    Step.of("post_x", brands="a", followup=False, loud=False, text=6, thread=1),
    Step.of("supervise", case=0, payload="oversize_by", update="route"),
]


def test_a_route_update_with_a_5000_character_by_keeps_search_attributes_bounded(
    simulation: tuple[Loop, WorkflowEnvironment],
) -> None:
    assert_holds(simulation, STEPS)

"""A policy reload renames the playbook a higher-scoring follow-up routes to while a case is open;
the follow-up's signal must not fail the case's workflow task. Found by the simulator; shrunk to
this history."""

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.simulation.runner import Loop, assert_holds
from tests.simulation.steps import Step

pytestmark = pytest.mark.heavy

STEPS = [
    Step.of("post_x", brands="a", followup=False, loud=False, text=0, thread=0),
    Step.of("reload", brand="a", edit="rename_urgent"),
    Step.of("post_x", brands="a", followup=True, loud=True, text=1, thread=0),
]


def test_a_follow_up_after_a_playbook_rename_leaves_the_case_answering(
    simulation: tuple[Loop, WorkflowEnvironment],
) -> None:
    assert_holds(simulation, STEPS)

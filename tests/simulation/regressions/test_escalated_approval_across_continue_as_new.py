"""An approval whose deadline passed escalates and then waits for a decision with no deadline;
once the case continues as new its pending approval shows none. That is not a restarted wait
(the deadline invariant took it for one). Found by the simulator; shrunk to this history."""

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.simulation.runner import Loop, assert_holds
from tests.simulation.steps import Step

pytestmark = pytest.mark.heavy

STEPS = [
    Step.of("roll_over", events=30),
    Step.of("post_x", brands="a", followup=False, loud=True, text=2, thread=2),
    Step.of("sleep", seconds=345600),
    Step.of("post_x", brands="a", followup=True, loud=True, text=6, thread=2),
    Step.of("supervise", case=0, payload="cli", update="resolve"),
]


def test_an_escalated_approval_waits_on_without_a_deadline_across_continue_as_new(
    simulation: tuple[Loop, WorkflowEnvironment],
) -> None:
    assert_holds(simulation, STEPS)

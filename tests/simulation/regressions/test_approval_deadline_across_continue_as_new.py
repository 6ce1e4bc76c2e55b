"""A case waiting for an approval continues as new (its history grew long: here the threshold
is lowered to 30 events and the customer's contacts add the events); the new run asks for the
approval again with a fresh deadline, so the approval timeout (2h, then escalate) restarts each
time and never fires while signals keep coming. Found by the simulator (roll_over with
contacts); shrunk from 12 steps to 6 (one contact here stands for the other brand's contact it
shrank to, which no longer reaches the case). Fixed: the approval's wait resumes with what
remains of it, or without a deadline once it escalated (workflows/case/waiting.py, patch
`approval-deadline-survives-continue-as-new`)."""

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.simulation.runner import Loop, assert_holds
from tests.simulation.steps import Step

pytestmark = pytest.mark.heavy

STEPS = [
    Step.of("roll_over", events=30),
    Step.of("post_meta", bad_time=False, brand="b", extra=0, followup=False, text=0, thread=1),
    Step.of("dm", brand="b", platform="facebook", quote=-1, sender=1, variant="valid"),
    Step.of("helpdesk", case=0, name="id", route="zendesk", variant="valid"),
    Step.of("helpdesk", case=0, name="ref", route="contact", variant="valid"),
    Step.of("helpdesk", case=0, name="id", route="contact", variant="valid"),
]


def test_an_approval_keeps_its_deadline_when_the_case_continues_as_new(
    simulation: tuple[Loop, WorkflowEnvironment],
) -> None:
    assert_holds(simulation, STEPS)

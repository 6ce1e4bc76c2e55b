"""A private message delivered twice (the platform retries what it thinks was lost) is
recorded twice on its case: ingest signals `customer_contact` once per delivery and the case
keeps both. Found by the simulator (dm rule, variant "twice"); shrunk from 5 steps to 2.
Fixed in ingest/service.py (a redelivered private message reaches its case once)."""

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.simulation.runner import Loop, assert_holds
from tests.simulation.steps import Step

pytestmark = pytest.mark.heavy

STEPS = [
    Step.of("post_x", brands="a", followup=False, loud=False, text=0, thread=0),
    Step.of("dm", brand="a", platform="x", quote=0, sender=0, variant="twice"),
]


def test_a_redelivered_private_message_is_one_contact(
    simulation: tuple[Loop, WorkflowEnvironment],
) -> None:
    assert_holds(simulation, STEPS)

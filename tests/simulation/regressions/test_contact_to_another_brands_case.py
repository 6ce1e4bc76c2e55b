"""A contact sent to one brand's ingest (POST /webhooks/contact, signed with that brand's
secret) naming another brand's case id reached that case: brands of one deployment share the
Temporal namespace, and ingest signalled any `case-` id it was given. Now only ids of the
brand's own cases are signalled; the other brand's case is a 404 here. Found by the
simulator (helpdesk rule); shrunk from 12 steps to 2."""

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.simulation.runner import Loop, assert_holds
from tests.simulation.steps import Step

pytestmark = pytest.mark.heavy

STEPS = [
    Step.of("post_meta", bad_time=False, brand="b", extra=0, followup=False, text=0, thread=1),
    Step.of("helpdesk", case=0, name="id", route="contact", variant="other_brand"),
]


def test_a_contact_never_reaches_another_brands_case(
    simulation: tuple[Loop, WorkflowEnvironment],
) -> None:
    assert_holds(simulation, STEPS)

"""The store cannot take a write while an urgent complaint arrives: ingest has already started
its case when the write fails, and answers 503 as it should. The case replies and closes; the
platform then delivers the post again, the store finds no row for it, and ingest starts the
thread's case again: a new run that replies to the same post a second time. Found by the
simulator (store_outage rule); shrunk from 18 steps to 1. Fixed: before opening a case for a
post the store does not know, ingest asks whether the thread's ended case took it already
(ingest/service.py, `_deliver`). On a loaded machine the simulator later found the case ending
between that look and the delivery: a running case now gets a plain signal, which cannot start
a run (tests/ingest/test_durability.py holds that moment open)."""

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.simulation.runner import Loop, assert_holds
from tests.simulation.steps import Step

pytestmark = pytest.mark.heavy

STEPS = [
    Step.of("store_outage", brand="a", during="post", wait=3600),
]


def test_a_post_answered_503_after_its_case_started_is_replied_to_once(
    simulation: tuple[Loop, WorkflowEnvironment],
) -> None:
    assert_holds(simulation, STEPS)

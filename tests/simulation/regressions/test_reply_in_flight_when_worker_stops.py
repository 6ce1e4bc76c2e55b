"""The worker stops while its urgent reply is on its way to a slow X (the activity is
cancelled; X still commits the reply); the next worker retries the activity and must find the
reply instead of posting a second one. Holds today; with the adapters' look-before-retry
guard reverted (platforms/http.py `may_have_run_before` always False) the simulator's
restart_worker rule finds the double reply in this history (uncached workers: see
world.World.cached)."""

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.simulation.runner import Loop, assert_holds
from tests.simulation.steps import Step

pytestmark = pytest.mark.heavy

STEPS = [
    Step.of("workers", cached=False),
    Step.of("restart_worker", brand="a", during="mid_reply"),
    Step.of("sleep", seconds=3600),
]


def test_a_reply_in_flight_when_the_worker_stops_is_posted_once(
    simulation: tuple[Loop, WorkflowEnvironment],
) -> None:
    assert_holds(simulation, STEPS)

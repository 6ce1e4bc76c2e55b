"""The simulation's own Temporal server and loop thread, shared by its tests (the hypothesis
rules are synchronous and run their coroutines on the loop)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.simulation.runner import Loop, start_server


@pytest.fixture(scope="session")
def simulation() -> Iterator[tuple[Loop, WorkflowEnvironment]]:
    loop = Loop()
    env = loop.run(start_server())
    try:
        yield loop, env
    finally:
        loop.run(env.shutdown())
        loop.close()

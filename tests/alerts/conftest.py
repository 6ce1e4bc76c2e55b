"""Spike alert tests run Schedules on the local dev server."""

from tests.workflows.conftest import dev  # noqa: F401 - fixture

"""Reliability suites share the Temporal test server of the case tests."""

from tests.workflows.conftest import dev  # noqa: F401 - fixture

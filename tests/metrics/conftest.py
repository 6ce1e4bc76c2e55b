"""Metrics tests use the Temporal servers of the case tests."""

from tests.workflows.conftest import dev, env, platform, queue  # noqa: F401 - fixtures

"""The security checks use the case tests' Temporal servers and activity doubles."""

from tests.workflows.conftest import dev, env, platform, queue  # noqa: F401 - fixtures

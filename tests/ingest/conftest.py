"""Ingest tests share the Temporal test server and the activity doubles of the case tests."""

from tests.postgres import postgres_cluster  # noqa: F401 - fixture
from tests.workflows.conftest import dev, env, platform, queue  # noqa: F401 - fixtures

"""Codec tests run cases on the local dev server."""

from tests.workflows.conftest import dev  # noqa: F401 - fixture

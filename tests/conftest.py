"""Every test can use the fixtures of tests/support/fixtures.py (Temporal servers, activity
doubles, a CLI runner); policies and helpers are imported from tests.support."""

pytest_plugins = ["tests.support.fixtures", "tests.support.postgres"]

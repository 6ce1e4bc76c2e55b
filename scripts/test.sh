#!/usr/bin/env bash
# The project's checks: lint, format, types, then the test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check complaintflow tests bench
.venv/bin/ruff format --check complaintflow tests bench
.venv/bin/mypy
.venv/bin/complaintflow validate policies.example.yaml
.venv/bin/python -m pytest "$@"

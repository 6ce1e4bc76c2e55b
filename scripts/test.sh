#!/usr/bin/env bash
# The project's checks: lint, format, types, then the test suite. Extra arguments go to pytest.
# `--quick` (first argument) is the development loop: the same checks and every test except
# the heavy ones (the reliability suites, the Web UI browser test, the `dev` command test and
# those marked `heavy`: quality floors on whole data sets, load and multi-process tests).
# The full run (no --quick) is the project's test command and what CI runs.
# Coverage of the package is reported on every run (the tests' own process; the processes they
# start are not measured); pass `--no-cov` (after --quick, if given) for a faster loop.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=()
if [ "${1:-}" = "--quick" ]; then
  shift
  quick=(--ignore=tests/reliability --deselect tests/test_web_ui.py
    --deselect tests/test_dev_command.py -m "not slow and not heavy")
fi
bash scripts/setup.sh
.venv/bin/ruff check complaintflow tests bench
.venv/bin/ruff format --check complaintflow tests bench
.venv/bin/mypy  # complaintflow, tests and bench (pyproject: files)
.venv/bin/lint-imports
.venv/bin/complaintflow validate policies.example.yaml
# Coverage of the package: lines and branches, the lines missed (pyproject: tool.coverage).
# The slowest tests are listed, so a run on a slower machine shows where its time went.
.venv/bin/python -m pytest --cov --cov-report=term-missing --durations=15 "${quick[@]}" "$@"

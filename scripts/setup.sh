#!/usr/bin/env bash
# Creates .venv and installs complaintflow with its test extras, once per change of pyproject.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.complaintflow-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[test]'
  echo "$want" > "$stamp"
fi
# Workers import the workflow module into a fresh sandbox for every case; without bytecode
# (PYTHONDONTWRITEBYTECODE is set on some machines) each start would compile it again.
.venv/bin/python -m compileall -q complaintflow

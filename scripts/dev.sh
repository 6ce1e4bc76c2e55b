#!/usr/bin/env bash
# The main job: installs if needed, then runs everything locally (Temporal dev server with its
# Web UI, a worker, the example policy playing the bundled sample stream). Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/complaintflow dev "$@"

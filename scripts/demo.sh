#!/usr/bin/env bash
# The main job on the embedded defaults: the example policy triages the bundled sample stream
# of mentions, shows how it decided one complaint, and draws the playbook it would run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cf=.venv/bin/complaintflow
sample=$(.venv/bin/python -c 'from complaintflow.devkit import sample_stream_path as p; print(p())')
echo "== validate the example policy"
$cf validate policies.example.yaml
echo; echo "== run its test suite"
$cf test policies.example.tests.yaml
echo; echo "== triage the sample stream ($sample)"
mkdir -p .complaintflow
$cf simulate policies.example.yaml "$sample" --out .complaintflow/decisions.jsonl
echo; echo "== how the policy decided one complaint"
$cf explain policies.example.yaml --mention "$(sed -n 3p "$sample")"
echo; echo "== the standard playbook as a diagram (paste into any Mermaid viewer)"
$cf graph policies.example.yaml --playbook standard

"""A valid policy edit goes live for new mentions; an invalid one is refused and logged."""

from pathlib import Path

import structlog
from temporalio.testing import WorkflowEnvironment

from complaintflow import load_policy
from complaintflow.ingest.app import Ingest, IngestSecrets
from complaintflow.ingest.reload import reload_once
from tests.support.paths import EXAMPLE_POLICY


async def test_edits_are_applied_or_refused(tmp_path: Path, env: WorkflowEnvironment) -> None:
    path = tmp_path / "policy.yaml"
    text = EXAMPLE_POLICY.read_text()
    path.write_text(text)
    ingest = Ingest(
        env.client,
        load_policy(path),
        task_queue="q",
        secrets=IngestSecrets(),
        decision_log=tmp_path / "d.jsonl",
    )
    seen = reload_once(path, ingest, "")
    assert ingest.policy.version == 1

    path.write_text(text.replace("version: 1", "version: 2"))
    with structlog.testing.capture_logs() as logs:
        seen = reload_once(path, ingest, seen)
    assert ingest.policy.version == 2
    assert logs[-1]["event"] == "policy.reloaded"
    assert logs[-1]["live"].startswith("northwind-social-care@v2")

    path.write_text(text.replace("version: 1", "version: 3").replace("weight: 0.3", "weigth: 1"))
    with structlog.testing.capture_logs() as logs:
        seen = reload_once(path, ingest, seen)
    assert ingest.policy.version == 2, "the previous version stays live"
    (refused,) = logs
    assert refused["event"] == "policy.refused"
    assert any(e.startswith(f"{path}:") and "unknown key 'weigth'" in e for e in refused["errors"])
    assert reload_once(path, ingest, seen) == seen, "an unchanged file is not compiled again"

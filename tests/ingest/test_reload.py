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


async def test_the_watcher_survives_bad_edits_and_takes_the_next_good_one(
    tmp_path: Path, env: WorkflowEnvironment
) -> None:
    """`.nan`, a 5,000-digit number, bytes that are not UTF-8: each is refused with located
    errors, and the watcher keeps watching, so the next valid edit still goes live."""
    import asyncio

    from complaintflow.ingest.reload import watch_policy

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
    watcher = asyncio.create_task(watch_policy(path, ingest, interval=0.02))
    await asyncio.sleep(0.1)  # it has read the file as it is now
    try:
        with structlog.testing.capture_logs() as logs:
            for bad in (
                text.replace("weight: 0.3", "weight: .nan", 1).encode(),
                text.replace("version: 1", "version: " + "9" * 5000).encode(),
                text.encode() + b"\n# \xff\n",
            ):
                path.write_bytes(bad)
                for _ in range(200):
                    await asyncio.sleep(0.02)
                    if any(e["event"] == "policy.refused" for e in logs):
                        break
                refused = [e for e in logs if e["event"] == "policy.refused"]
                assert refused and all(":" in err for err in refused[-1]["errors"])
                logs.clear()
                assert ingest.policy.version == 1
        path.write_text(text.replace("version: 1", "version: 2"))
        for _ in range(200):
            await asyncio.sleep(0.02)
            if ingest.policy.version == 2:
                break
        assert ingest.policy.version == 2, "the watcher is still alive"
        assert not watcher.done()
    finally:
        watcher.cancel()

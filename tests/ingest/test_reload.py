"""A valid policy edit goes live for new mentions; an invalid one is refused and logged."""

import shutil
from pathlib import Path

import structlog
from temporalio.testing import WorkflowEnvironment

from complaintflow import load_policy
from complaintflow.ingest.app import Ingest, IngestSecrets
from complaintflow.ingest.reload import reload_once
from complaintflow.learning.training import dump_model, fit, read_labelled
from complaintflow.rules.mention import Mention
from tests.support.paths import EXAMPLE_POLICY, ROOT

XCI = ROOT.parent / "shared" / "data" / "xci" / "train.csv"


def _ingest_of(env: WorkflowEnvironment, path: Path, text: str) -> Ingest:
    """Ingest serving the policy `text`, written to `path` (which the tests then edit)."""
    path.write_text(text)
    return Ingest(
        env.client,
        load_policy(path),
        task_queue="q",
        secrets=IngestSecrets(),
        decision_log=path.parent / "d.jsonl",
    )


async def test_edits_are_applied_or_refused(tmp_path: Path, env: WorkflowEnvironment) -> None:
    path = tmp_path / "policy.yaml"
    text = EXAMPLE_POLICY.read_text()
    ingest = _ingest_of(env, path, text)
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
    ingest = _ingest_of(env, path, text)
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


async def test_a_changed_model_is_a_changed_policy(
    tmp_path: Path, env: WorkflowEnvironment
) -> None:
    """Retraining the model reloads the policy; a broken model file is refused."""
    models = ROOT / "complaintflow" / "models"
    for name in ("complaint", "severity"):
        shutil.copy(models / f"{name}.cfmodel", tmp_path / f"{name}.cfmodel")
    path = tmp_path / "policy.yaml"
    text = EXAMPLE_POLICY.read_text().replace('"builtin:complaint"', '"complaint.cfmodel"')
    ingest = _ingest_of(env, path, text)
    first = ingest.policy.content_hash
    seen = reload_once(path, ingest, "")
    assert ingest.policy.content_hash == first

    # retrained on other data: a new model
    data = read_labelled(XCI, text_column="text", label_column="label")
    dump_model(fit(data.texts[:600], data.labels[:600]), tmp_path / "complaint.cfmodel")
    with structlog.testing.capture_logs() as logs:
        seen = reload_once(path, ingest, seen)
    assert logs[-1]["event"] == "policy.reloaded"
    assert ingest.policy.content_hash != first
    second = ingest.policy.content_hash

    (tmp_path / "complaint.cfmodel").write_bytes(b"\x1f\x8b not really gzip")
    with structlog.testing.capture_logs() as logs:
        seen = reload_once(path, ingest, seen)
    (refused,) = logs
    assert refused["event"] == "policy.refused"
    assert any(
        "complaint.cfmodel" in e and "not a complaintflow model" in e for e in refused["errors"]
    )
    assert ingest.policy.content_hash == second, "the previous version stays live"
    decision = ingest.triage.decide(Mention(id="1", text="my parcel never arrived, refund me"))
    assert decision.route is not None, "and it still triages with its model"


def test_a_fifo_put_in_place_of_a_model_file_never_stalls_the_watch(tmp_path: Path) -> None:
    """The live-reload watch hashes the files a policy reads within bounds: a FIFO (or a
    device) where a model file was is read as unreadable at once, never waited on."""
    import os

    from complaintflow.ingest.reload import _fingerprint

    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text("policy: x\n")
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    assert _fingerprint(fifo) == "", "a FIFO in place of the policy file is not read"
    assert _fingerprint(policy_file) != ""

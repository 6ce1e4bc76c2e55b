"""`complaintflow retrain`: a Schedule that trains a candidate from the brand's labels,
compares it with the live model, and tells the team what would change, or why not."""

from __future__ import annotations

from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from complaintflow.activities.labels import LabelRecorder
from complaintflow.learning.labels import Label
from complaintflow.learning.weekly import schedule_retraining
from complaintflow.store import open_store
from complaintflow.worker import build_worker
from complaintflow.workflows import registry
from complaintflow.workflows.retrain import RetrainSettings
from tests.support.helpers import until
from tests.support.labels import brand_rows
from tests.support.paths import EXAMPLE_POLICY
from tests.support.platform import Platform


async def test_the_schedule_trains_compares_and_notifies_the_team(
    dev: WorkflowEnvironment, tmp_path: Path
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    platform = Platform()
    queue = f"retrain-{tmp_path.name}"[:60]
    try:
        for row in brand_rows(600):
            await store.record_label(
                Label(
                    "northwind-social-care",
                    "x",
                    row["id"][2:],
                    row["text"],
                    int(row["label"]),
                    row["source"],
                    row["by"],
                    row["time"],
                )
            )
        settings = RetrainSettings(
            policy="northwind-social-care",
            policy_file=str(EXAMPLE_POLICY),
            out_dir=str(tmp_path / "candidates"),
            target="#care-leads",
        )
        activities = [*platform.activities(), *LabelRecorder(store).activities()]
        async with build_worker(dev.client, activities=activities, task_queue=queue):
            schedule = dev.client.get_schedule_handle(
                await schedule_retraining(dev.client, settings, queue)
            )
            try:
                await schedule.trigger()
                await until(lambda: platform.of(registry.NOTIFY), seconds=300)
            finally:
                await schedule.delete()
    finally:
        await store.close()
    [told] = platform.of(registry.NOTIFY)
    assert told.target == "#care-leads"
    assert told.text.startswith("A retrained model is ready for northwind-social-care.\n")
    assert "held out  120 labels" in told.text
    [complaint] = (tmp_path / "candidates").glob("complaint-*.cfmodel")
    [severity] = (tmp_path / "candidates").glob("severity-*.cfmodel")
    assert (
        f'set classifiers.complaint.model: "{complaint}", classifiers.severity.model: '
        f'"{severity}" in {EXAMPLE_POLICY}'
    ) in told.text

"""`complaintflow play` posts a stream into a running ingest service, signed."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from complaintflow import load_policy
from complaintflow.devkit.serve import serving
from complaintflow.ingest.app import Ingest, IngestSecrets, create_app
from tests.support.paths import EXAMPLE_POLICY
from tests.support.platform import Platform


async def test_play_the_sample_into_ingest(
    env: WorkflowEnvironment, platform: Platform, tmp_path: Path
) -> None:
    ingest = Ingest(
        env.client,
        load_policy(EXAMPLE_POLICY),
        task_queue="play",
        secrets=IngestSecrets(generic_secret="play-secret"),
        decision_log=tmp_path / "decisions.jsonl",
    )
    async with (
        platform.worker(env.client, "play"),
        serving(create_app(ingest)) as url,
    ):
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "complaintflow", "play", "--ingest-url", url, "--limit", "10"],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            env={**os.environ, "COMPLAINTFLOW_WEBHOOK_SECRET": "play-secret"},
        )
        wrong = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "complaintflow", "play", "--ingest-url", url, "--limit", "1"],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            env={**os.environ, "COMPLAINTFLOW_WEBHOOK_SECRET": "guessed"},
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == (
        "6 cases opened, 4 throwaway remarks logged, 0 refused"
    )
    assert wrong.returncode == 1
    assert "ingest answered 401" in wrong.stdout

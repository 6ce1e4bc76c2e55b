"""`complaintflow worker` as a process: connects from the environment, runs cases whose actions
reach the actions webhook, and drains and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys

from temporalio.testing import WorkflowEnvironment

from complaintflow.signatures import sign
from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.messages import CaseState, CaseStatus, SupervisorAction
from tests.support.cases import approve, complaint, open_, pending, send_update, until
from tests.support.receiver import receiver


async def test_worker_process_runs_cases_and_stops_on_sigterm(dev: WorkflowEnvironment) -> None:
    with receiver() as rx:
        env = {
            **os.environ,
            "TEMPORAL_ADDRESS": dev.client.service_client.config.target_host,
            "TEMPORAL_NAMESPACE": "default",
            "COMPLAINTFLOW_ACTIONS_URL": rx.url,
            "COMPLAINTFLOW_ACTIONS_SECRET": "top-secret",
            "COMPLAINTFLOW_TASK_QUEUE": "proc",
            "COMPLAINTFLOW_ACTIONS": "webhook",
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "complaintflow", "worker", "--log-format", "json"],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            handle = await open_(dev, "proc", complaint(id="w-1", thread_id="w-1"))
            await until(handle, pending("reply_acknowledge"))
            await approve(handle, "reply_acknowledge")
            await until(handle, lambda s: s.status is CaseStatus.AWAITING_CONTACT)
            await send_update(handle, CaseWorkflow.close, SupervisorAction(by="dana"))
            final: CaseState = await handle.result()
        finally:
            worker.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.to_thread(worker.communicate, timeout=60)
    assert worker.returncode == 0, stderr
    events = [json.loads(line)["event"] for line in stderr.splitlines() if line.startswith("{")]
    assert events == ["worker.started", "worker.draining", "worker.stopped"]
    assert "top-secret" not in stderr
    assert rx.paths() == ["/notify", "/post_reply", "/send_private_message"]
    reply = rx.requests[1]
    assert reply.headers["X-Complaintflow-Signature"] == sign(b"top-secret", reply.body)
    assert reply.json()["text"] == "Sorry to hear this, Jo. Please check your messages."
    assert final.replies == ["ref-2"]

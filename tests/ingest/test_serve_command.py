"""`complaintflow serve` as a process: takes signed webhooks, starts cases, stops on SIGTERM."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import httpx
from temporalio.testing import WorkflowEnvironment

from tests.support.helpers import free_port
from tests.support.paths import EXAMPLE_POLICY
from tests.support.webhooks import x_event, x_signature


async def test_serve_accepts_a_signed_webhook(dev: WorkflowEnvironment, tmp_path) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": dev.client.service_client.config.target_host,
        "COMPLAINTFLOW_X_CONSUMER_SECRET": "x-secret",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "complaintflow",
            "serve",
            "--policy",
            str(EXAMPLE_POLICY),
            "--port",
            str(port),
            "--decision-log",
            str(tmp_path / "d.jsonl"),
            "--log-format",
            "json",
        ],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    health = await http.get("/healthz")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "serve never started"
                    await asyncio.sleep(0.1)
            assert health.json()["policy"].startswith("northwind-social-care@v1")
            body = json.dumps(
                x_event("1999", "@NorthwindCares wrong item delivered, refund please")
            ).encode()
            answer = await http.post(
                "/webhooks/x",
                content=body,
                headers={"x-twitter-webhooks-signature": x_signature(body)},
            )
            assert answer.status_code == 200 and answer.json()["cases"] == [
                "case-x-1999@northwind-social-care"
            ]
        description = await dev.client.get_workflow_handle(
            "case-x-1999@northwind-social-care"
        ).describe()
        assert description.workflow_type == "CaseWorkflow"
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.to_thread(server.communicate, timeout=30)
    assert server.returncode == 0, stderr
    events = [json.loads(line)["event"] for line in stderr.splitlines() if line.startswith("{")]
    assert events[0] == "ingest.started" and events[-1] == "ingest.stopped"
    assert "x-secret" not in stderr

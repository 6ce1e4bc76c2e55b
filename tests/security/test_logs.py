"""Secrets never reach the logs, and customers' words stay out where the policy says so."""

import asyncio
import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import structlog
from temporalio import workflow
from temporalio.testing import WorkflowEnvironment

from complaintflow.logs import Redactor, configure
from tests.support.helpers import free_port
from tests.support.paths import EXAMPLE_POLICY
from tests.support.webhooks import x_event, x_signature

SLACK_URL = "https://hooks.slack.example/services/T0001/B0002/XyZsecretPart"


@workflow.defn(sandboxed=False)
class BrokenForLogs:
    """A workflow whose every task fails, so that the SDK core logs it."""

    @workflow.run
    async def run(self) -> None:
        raise RuntimeError(f"cannot reach {SLACK_URL}")


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Logging set up as the worker does; what it writes."""
    monkeypatch.setenv("COMPLAINTFLOW_SLACK_WEBHOOK_URL", SLACK_URL)
    monkeypatch.setenv("COMPLAINTFLOW_X_TOKEN", "x-bearer-0123456789")
    handlers = logging.getLogger().handlers[:]
    level = logging.getLogger().level
    written = io.StringIO()
    configure(json_output=True, stream=written)
    yield written
    structlog.reset_defaults()
    logging.getLogger().handlers[:] = handlers
    logging.getLogger().setLevel(level)


def test_credentials_are_removed_wherever_they_appear() -> None:
    redactor = Redactor(["x-bearer-0123456789", SLACK_URL, "abc"])
    event = redactor(
        None,
        "info",
        {
            "event": "notify.failed",
            "error": f"POST {SLACK_URL} answered 404; retried with x-bearer-0123456789",
            "x_token": "anything at all",
            "note": "abc stays: too short to be a credential",
        },
    )
    assert event == {
        "event": "notify.failed",
        "error": "POST [redacted] answered 404; retried with [redacted]",
        "x_token": "[redacted]",
        "note": "abc stays: too short to be a credential",
    }


def test_customer_text_is_kept_unless_the_policy_says_otherwise() -> None:
    fields = {"event": "mention.triaged", "text": "my kettle is broken", "author_handle": "jo"}
    assert Redactor()(None, "info", dict(fields)) == fields
    assert Redactor(customer_text=True)(None, "info", dict(fields)) == {
        "event": "mention.triaged",
        "text": "[customer text: 19 chars]",
        "author_handle": "[customer text: 2 chars]",
    }


def test_the_sdks_own_log_records_are_redacted_too(configured: io.StringIO) -> None:
    try:
        raise RuntimeError(f"POST {SLACK_URL} failed")
    except RuntimeError:
        logging.getLogger("temporalio.activity").warning(
            "Completing activity as failed", exc_info=True
        )
    err = configured.getvalue()
    (line,) = [line for line in err.splitlines() if "Completing activity" in line]
    record = json.loads(line)
    assert record["logger"] == "temporalio.activity" and record["level"] == "warning"
    assert "RuntimeError: POST [redacted] failed" in record["exception"]
    assert "XyZsecretPart" not in err


async def test_serve_logs_no_secret_and_no_customer_words(
    dev: WorkflowEnvironment, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(EXAMPLE_POLICY.read_text() + "\nprivacy: {redact_customer_text: true}\n")
    port = free_port()
    secrets = {
        "COMPLAINTFLOW_X_CONSUMER_SECRET": "x-consumer-secret-42",
        "COMPLAINTFLOW_WEBHOOK_SECRET": "generic-secret-42",
        "COMPLAINTFLOW_CRM_TOKEN": "crm-token-42",
    }
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "complaintflow", "serve", "--policy", str(policy)),
            *("--port", str(port), "--decision-log", str(tmp_path / "d.jsonl")),
            *("--log-format", "json"),
        ],
        env={
            **os.environ,
            "TEMPORAL_ADDRESS": dev.client.service_client.config.target_host,
            **secrets,
        },
        stderr=subprocess.PIPE,
        text=True,
    )
    words = {
        "1991": "@NorthwindCares wrong item delivered again, refund please",
        "1992": "lovely weather for a van ride",
    }
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    await http.get("/healthz")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "serve never started"
                    await asyncio.sleep(0.1)
            for tweet, text in words.items():
                body = json.dumps(x_event(tweet, text)).encode()
                signature = x_signature(body, "x-consumer-secret-42")
                headers = {"x-twitter-webhooks-signature": signature}
                assert (await http.post("/webhooks/x", content=body, headers=headers)).is_success
            forged = await http.post(
                "/webhooks/x", content=b"{}", headers={"x-twitter-webhooks-signature": "sha256=x"}
            )
            assert forged.status_code == 401
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.to_thread(server.communicate, timeout=30)
    assert server.returncode == 0, stderr
    events = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    triaged = [e for e in events if e["event"] == "mention.triaged"]
    assert [(e["mention_id"], e["text"], e["author_handle"]) for e in triaged] == [
        ("1991", f"[customer text: {len(words['1991'])} chars]", "[customer text: 4 chars]"),
        ("1992", f"[customer text: {len(words['1992'])} chars]", "[customer text: 4 chars]"),
    ]
    assert (
        triaged[0]["case_id"] == "case-x-1991@northwind-social-care" and triaged[1]["route"] is None
    )
    assert "ingest.bad_signature" in [e["event"] for e in events]
    for text in [*words.values(), "jo_r", *secrets.values()]:
        assert text not in stderr


async def test_a_server_traceback_is_a_json_line_without_secrets(configured: io.StringIO) -> None:
    """uvicorn's "Exception in ASGI application" and its traceback go through the JSON logs
    and the redactor, as `serve` configures them."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def boom(_request: Request) -> Response:
        raise RuntimeError(f"could not post to {SLACK_URL}")

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/boom", boom)]),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            log_config=None,
            lifespan="off",
        )
    )
    running = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.02)
        async with httpx.AsyncClient() as http:
            answer = await http.get(f"http://127.0.0.1:{port}/boom")
        assert answer.status_code == 500
    finally:
        server.should_exit = True
        await running
    written = configured.getvalue()
    assert "XyZsecretPart" not in written
    records = [json.loads(line) for line in written.splitlines() if line.strip()]
    (crash,) = [r for r in records if r["event"].strip() == "Exception in ASGI application"]
    assert "RuntimeError: could not post to [redacted]" in crash["exception"]


async def test_the_sdk_cores_own_lines_are_json_and_redacted(
    configured: io.StringIO, env: WorkflowEnvironment
) -> None:
    """The core (Rust) logs "Failing workflow task" itself; after `configure` that line comes
    through Python logging as JSON, with credentials removed."""
    import uuid
    from datetime import timedelta

    from temporalio.client import Client
    from temporalio.worker import Worker

    target = env.client.service_client.config.target_host
    client = await Client.connect(target, namespace=env.client.namespace)  # the new runtime
    queue = f"logs-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[BrokenForLogs]):
        handle = await client.start_workflow(
            "BrokenForLogs", id=queue, task_queue=queue, execution_timeout=timedelta(minutes=1)
        )
        for _ in range(100):
            if "sdk_core" in configured.getvalue():
                break
            await asyncio.sleep(0.1)
        await handle.terminate()
    written = configured.getvalue()
    core = [json.loads(line) for line in written.splitlines() if "sdk_core" in line]
    assert core, written[-2000:]
    assert all(r["logger"].startswith("temporalio.core") for r in core)
    assert "XyZsecretPart" not in written


def test_logging_set_up_writes_to_stderr_as_it_is_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines go to the stderr of the moment they are written: a stream replaced (and closed)
    after logging was set up is never written to again."""
    import io

    import structlog

    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure(json_output=True)
    monkeypatch.setattr(sys, "stderr", second)
    first.close()
    structlog.get_logger().info("case.opened", case_id="case-x-1@acme")
    assert '"case.opened"' in second.getvalue()

"""`complaintflow cases / approve / resolve` against a real local dev server."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from temporalio.testing import WorkflowEnvironment

from complaintflow.workflows.messages import CaseState
from tests.support.cases import complaint, open_
from tests.support.platform import Platform


def cli(dev: WorkflowEnvironment, *args: str) -> subprocess.CompletedProcess[str]:
    address = dev.client.service_client.config.target_host
    return subprocess.run(
        [sys.executable, "-m", "complaintflow", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "TEMPORAL_ADDRESS": address, "TEMPORAL_NAMESPACE": "default"},
        timeout=60,
    )


async def test_supervisor_works_a_case_from_the_terminal(dev: WorkflowEnvironment) -> None:
    platform = Platform()
    mention = complaint(id="cli-1", thread_id="cli-1")
    async with platform.worker(dev.client, "cli"):
        handle = await open_(dev, "cli", mention)
        for _ in range(100):  # visibility is eventually consistent
            listed = await asyncio.to_thread(cli, dev, "cases", "--awaiting-approval")
            if "case-x-cli-1@cases" in listed.stdout:
                break
            await asyncio.sleep(0.1)
        assert listed.returncode == 0, listed.stderr
        row = next(line for line in listed.stdout.splitlines() if "case-x-cli-1@cases" in line)
        assert row.split()[:6] == [
            "case-x-cli-1@cases",
            "awaiting_approval",
            "x",
            "0.50",
            "respond",
            "normal",
        ]
        refused = await asyncio.to_thread(
            cli, dev, "approve", "case-x-cli-1@cases", "reply", "--by", "dana"
        )
        assert refused.returncode == 1
        assert refused.stderr.strip() == (
            'complaintflow approve: step "reply" is not waiting for approval; '
            '"reply_acknowledge" is: send {"step": "reply_acknowledge", ...}'
        )
        approved = await asyncio.to_thread(
            cli, dev, "approve", "case-x-cli-1@cases", "reply_acknowledge", "--by", "dana"
        )
        assert approved.returncode == 0, approved.stderr
        assert approved.stdout.strip() == "reply_acknowledge approved by dana"
        closed = await asyncio.to_thread(
            cli, dev, "close", "case-x-cli-1@cases", "--by", "dana", "--note", "test over"
        )
        assert closed.stdout.strip() == "case case-x-cli-1@cases closed"
        final: CaseState = await handle.result()  # type: ignore[assignment]
        assert final.closed_reason == "test over"
        missing = await asyncio.to_thread(cli, dev, "resolve", "case-x-nope", "--by", "dana")
        assert missing.returncode == 1 and "no such case" in missing.stderr
    assert [r.text for r in platform.of("complaintflow.post_reply")] == [
        "Sorry to hear this, Jo. Please check your messages."
    ]

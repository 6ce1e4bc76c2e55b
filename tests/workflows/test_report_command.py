"""`complaintflow report` reads cases from visibility and the decision log."""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from complaintflow import compile_policy
from complaintflow.client.cases import open_case
from complaintflow.rules.triage import Triage
from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.messages import SupervisorAction
from tests.support.cases import complaint, pending, send_update, until
from tests.support.platform import Platform
from tests.support.policies import CASES_POLICY as POLICY


async def test_report_counts_answers_and_remarks(dev: WorkflowEnvironment, tmp_path: Path) -> None:
    policy = compile_policy(POLICY)
    triage = Triage(policy)
    log = tmp_path / "decisions.jsonl"
    log.write_text(json.dumps({"id": "r1", "platform": "instagram", "route": None}) + "\n")
    async with Platform().worker(dev.client, "rep"):
        handles = []
        for n in (1, 2):
            mention = complaint(id=f"rep-{n}", thread_id=f"rep-{n}", platform="instagram")
            handles.append(
                await open_case(
                    dev.client,
                    mention=mention,
                    decision=triage.decide(mention),
                    policy=policy,
                    task_queue="rep",
                )
            )
        await until(handles[0], pending("reply_acknowledge"))
        await send_update(
            handles[0], CaseWorkflow.approve, SupervisorAction(step="reply_acknowledge", by="dana")
        )
        await until(handles[0], lambda s: bool(s.first_response_at))
        page = tmp_path / "report.html"
        done = await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "-m",
                "complaintflow",
                "report",
                "--decision-log",
                str(log),
                "--html",
                str(page),
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            env={**os.environ, "TEMPORAL_ADDRESS": dev.client.service_client.config.target_host},
        )
        for handle in handles:
            await send_update(handle, CaseWorkflow.close, SupervisorAction(by="dana"))
    assert done.returncode == 0, done.stderr
    row = next(
        line.split()
        for line in done.stdout.splitlines()
        if line.startswith("instagram") and " all " in line
    )
    assert row[2:4] == ["2", "50%"], done.stdout
    assert row[-1] == "1", "one throwaway remark on instagram"
    assert "<svg" in page.read_text()


async def test_report_json_lists_the_backlog_with_links_and_who_decided(
    dev: WorkflowEnvironment, tmp_path: Path
) -> None:
    policy = compile_policy(POLICY)
    triage = Triage(policy)
    store = f"sqlite:///{tmp_path / 'store.db'}"
    async with Platform().worker(dev.client, "rep-json"):
        handles = []
        for n in (1, 2):
            mention = complaint(id=f"rj-{n}", thread_id=f"rj-{n}")
            handle = await open_case(
                dev.client,
                mention=mention,
                decision=triage.decide(mention),
                policy=policy,
                task_queue="rep-json",
            )
            await until(handle, pending("reply_acknowledge"))
            handles.append(handle)
        await send_update(
            handles[1], CaseWorkflow.approve, SupervisorAction(step="reply_acknowledge", by="lee")
        )
        await until(handles[1], lambda s: bool(s.first_response_at))
        env = {
            **os.environ,
            "TEMPORAL_ADDRESS": dev.client.service_client.config.target_host,
            "COMPLAINTFLOW_UI_URL": "https://ui.example",
        }
        command = [sys.executable, "-m", "complaintflow", "report", "--database", store]
        report: dict[str, object] = {}
        for _ in range(100):  # visibility is eventually consistent
            done = await asyncio.to_thread(
                subprocess.run,
                [*command, "--json", "--since", "2d"],
                capture_output=True,
                text=True,
                check=False,
                timeout=120,
                env=env,
            )
            assert done.returncode == 0, done.stderr
            report = json.loads(done.stdout)
            if any(w["case_id"] == handles[0].id for w in report["backlog"]):  # type: ignore[attr-defined]
                break
            await asyncio.sleep(0.2)
        refused = await asyncio.to_thread(
            subprocess.run,
            [*command, "--since", "30 days"],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            env=env,
        )
        for handle in handles:
            await send_update(handle, CaseWorkflow.close, SupervisorAction(by="dana"))
    waiting = {w["case_id"]: w for w in report["backlog"]}  # type: ignore[attr-defined]
    assert waiting[handles[0].id]["step"] == "reply_acknowledge"
    assert waiting[handles[0].id]["link"] == (
        "https://ui.example/namespaces/default/workflows/case-x-rj-1%40cases"
    )
    assert handles[1].id not in waiting, "an approved reply is not in the backlog"
    assert report["decisions"]["lee"]["approved"] >= 1  # type: ignore[index]
    assert report["period"] == "day" and len(report["periods"]) == 3  # type: ignore[arg-type]
    assert refused.returncode == 2
    assert "--since takes a number and h, d or w (e.g. 30d), got '30 days'" in refused.stderr
    assert "Traceback" not in refused.stderr

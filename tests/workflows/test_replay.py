"""Recorded case histories replay against today's code: a change that would break running
cases (non-determinism) fails here before it reaches a worker."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from complaintflow.worker import workflow_runner
from complaintflow.workflows.case import CaseWorkflow

HISTORIES = sorted((Path(__file__).resolve().parent.parent / "histories").glob("*.json"))


def test_histories_are_recorded() -> None:
    """The replay suite covers the representative paths (see finish() in the case tests)."""
    names = {path.stem for path in HISTORIES}
    assert {
        "case-x-9001",
        "case-x-9002",
        "case-x-t-esc",
        "case-x-t-sla",
        "case-x-th-1",
        "case-x-b-1",
        "case-x-long-name",  # a name cut to fit the reply (patched)
        "case-x-grow-0",  # the run a long case continued as, from its carried state
        "case-x-ty-1",  # thanks read in the workflow (before ingest read it)
        "case-x-ty-1@cases",  # thanks read at ingest (patched)
        "case-x-th-1@cases",  # a later post publishes only what it changed (patched)
        "case-x-rn-1@cases",  # a decision naming a playbook the case's policy lacks
        "case-x-route-hostile@reads-english",  # a route after a refused hostile one
        "case-x-l-1@small",  # dismissed: the label written before the case ends (patched)
        "case-x-l-2@small",  # an approved reply labelled, a dismiss refused (patched)
        "case-x-c-1@cases",  # a supervisor recorded the customer's call (contact update)
        "case-x-cost-1@cases",  # one wake-up timer, one upsert per wait (patched)
        "case-x-cost-3@cases",  # a later deadline after the earlier timer rang (patched)
        "case-x-77@cases",  # a private complaint answered in its conversation
        "case-x-due-0@cases",  # an escalated approval carried across continue-as-new (patched)
        "case-x-tg-1@cases",  # steps that go on without waiting share one activity (patched)
        "case-x-tg-2@cases",  # a call refused inside the shared activity escalates (patched)
        "case-x-cost-ahead@cases",  # the removal approved with the resolution
    } <= names


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=[CaseWorkflow], workflow_runner=workflow_runner())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"

"""Notifications, tickets and the archive, against the emulator over loopback."""

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from complaintflow.activities.operations import Operations, OperationsConfig
from complaintflow.devkit.emulator import EmulatorState, Fault, create_app
from complaintflow.devkit.serve import serving
from complaintflow.errors import PlatformError
from complaintflow.workflows.messages import ActionRequest


@pytest_asyncio.fixture
async def ops(tmp_path: Path) -> AsyncIterator[tuple[EmulatorState, Operations]]:
    state = EmulatorState(token="zd-token", brand_x_id="1", brand_page_id="2")
    async with serving(create_app(state)) as url:
        config = OperationsConfig(
            slack_webhook_url=f"{url}/slack/T000/B000/XXXX",
            notify_webhook_url=f"{url}/hooks/pager",
            zendesk_url=f"{url}/zendesk",
            zendesk_email="care@nw.example",
            zendesk_token="zd-token",
            archive_dir=tmp_path / "archive",
        )
        operations = Operations(config, client=httpx.AsyncClient(timeout=5.0))
        yield state, operations
        await operations.client.aclose()


def action(**changes: str) -> ActionRequest:
    values = {
        "case_id": "case-x-1",
        "step_id": "ticket",
        "kind": "ticket",
        "platform": "x",
        "thread_id": "1",
        "mention_id": "1",
        "author_handle": "jo",
        "key": "case-x-1/t",
    }
    values.update(changes)
    return ActionRequest(**values)


async def test_slack_and_webhook_notifications(ops: tuple[EmulatorState, Operations]) -> None:
    state, operations = ops
    await operations.notify(action(via="slack", target="#care", text="New complaint"))
    await operations.notify(action(via="webhook", target="leads", text="SLA breached"))
    assert state.notifications == [
        {"hook": "T000/B000/XXXX", "text": "New complaint", "channel": "#care"},
        {
            "hook": "pager",
            "case_id": "case-x-1",
            "target": "leads",
            "priority": "",
            "text": "SLA breached",
        },
    ]


async def test_zendesk_ticket_is_opened_once_across_a_dropped_answer(
    ops: tuple[EmulatorState, Operations],
) -> None:
    state, operations = ops
    state.faults.append(Fault(route="zendesk.ticket", drop=True, times=1))
    with pytest.raises(PlatformError) as dropped:
        await operations.open_ticket(action(target="zendesk", priority="urgent"))
    assert dropped.value.retryable
    result = await operations.open_ticket(action(target="zendesk", priority="urgent"))
    assert result.ref == "1"
    (ticket,) = state.tickets
    assert ticket["subject"] == "[x] complaint case case-x-1"
    assert ticket["priority"] == "urgent" and ticket["external_id"] == "case-x-1"


async def test_wrong_zendesk_token_is_not_retried(
    ops: tuple[EmulatorState, Operations], tmp_path: Path
) -> None:
    _, operations = ops
    wrong = Operations(
        OperationsConfig(
            zendesk_url=operations.config.zendesk_url, zendesk_email="a", zendesk_token="nope"
        ),
        client=operations.client,
    )
    with pytest.raises(PlatformError) as refused:
        await wrong.open_ticket(action(target="zendesk"))
    assert refused.value.status == 401 and not refused.value.retryable


async def test_archive_keeps_the_complaint(ops: tuple[EmulatorState, Operations]) -> None:
    _, operations = ops
    result = await operations.archive(action(text="my order never arrived", mention_id="77"))
    files = list(operations.config.archive_dir.glob("*.jsonl"))
    (record,) = [json.loads(line) for line in files[0].read_text().splitlines()]
    assert record["text"] == "my order never arrived" and record["post_id"] == "77"
    assert result.ref.endswith(":77")


async def test_unconfigured_endpoint_says_what_is_missing(tmp_path: Path) -> None:
    operations = Operations(OperationsConfig(archive_dir=tmp_path))
    with pytest.raises(PlatformError, match="no endpoint is configured"):
        await operations.notify(action(via="slack", target="#care"))
    await operations.client.aclose()

"""Notifications, tickets and the archive, against the emulator over loopback."""

import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

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
    values: dict[str, Any] = {
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
    state.slack_hook_channels["T000/B000/XXXX"] = "#alerts"
    done = await operations.notify(action(via="slack", target="#care", text="New complaint"))
    await operations.notify(action(via="webhook", target="leads", text="SLA breached"))
    assert state.notifications == [
        # One default webhook: its own channel gets it, saying which channel it was meant for.
        {
            "hook": "T000/B000/XXXX",
            "channel": "#alerts",
            "text": "[#care] New complaint",
            "via": "webhook",
        },
        {
            "hook": "pager",
            "case_id": "case-x-1",
            "target": "leads",
            "priority": "",
            "text": "SLA breached",
        },
    ]
    assert "default Slack channel" in done.detail


async def test_an_incoming_webhook_ignores_the_channel_in_its_body(
    ops: tuple[EmulatorState, Operations],
) -> None:
    state, operations = ops
    state.slack_hook_channels["T1/B1/X"] = "#created-for"
    url = operations.config.slack_webhook_url.replace("T000/B000/XXXX", "T1/B1/X")
    answer = await operations.client.post(url, json={"text": "hi", "channel": "#elsewhere"})
    assert answer.status_code == 200 and answer.text == "ok"
    assert state.notifications[-1]["channel"] == "#created-for"


async def test_slack_routes_by_channel_with_a_bot_token(
    ops: tuple[EmulatorState, Operations],
) -> None:
    state, operations = ops
    base = operations.config.slack_webhook_url.removesuffix("/T000/B000/XXXX")
    bot = Operations(
        dataclasses.replace(
            operations.config, slack_bot_token="zd-token", slack_api_url=f"{base}/api"
        ),
        client=operations.client,
    )
    state.slack_channels = {"#care", "#leads"}
    await bot.notify(action(via="slack", target="#care", text="one"))
    await bot.notify(action(via="slack", target="#leads", text="two"))
    assert [(n["channel"], n["text"], n["via"]) for n in state.notifications] == [
        ("#care", "one", "chat.postMessage"),
        ("#leads", "two", "chat.postMessage"),
    ]
    with pytest.raises(PlatformError, match="channel_not_found") as refused:
        await bot.notify(action(via="slack", target="#nowhere", text="three"))
    assert not refused.value.retryable
    wrong = Operations(
        dataclasses.replace(bot.config, slack_bot_token="xoxb-wrong"), client=operations.client
    )
    with pytest.raises(PlatformError, match="invalid_auth"):
        await wrong.notify(action(via="slack", target="#care", text="four"))


async def test_slack_routes_by_channel_with_one_webhook_per_channel(
    ops: tuple[EmulatorState, Operations],
) -> None:
    state, operations = ops
    base = operations.config.slack_webhook_url.removesuffix("/T000/B000/XXXX")
    state.slack_hook_channels.update({"T/care": "#care", "T/leads": "#leads"})
    hooks = {"#care": f"{base}/T/care", "#leads": f"{base}/T/leads"}
    routed = Operations(
        dataclasses.replace(operations.config, slack_webhooks=hooks), client=operations.client
    )
    await routed.notify(action(via="slack", target="#leads", text="urgent"))
    await routed.notify(action(via="slack", target="#care", text="new"))
    assert [(n["channel"], n["text"]) for n in state.notifications] == [
        ("#leads", "urgent"),
        ("#care", "new"),
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


async def test_zendesk_retry_after_the_idempotency_key_expired_opens_no_second_ticket(
    ops: tuple[EmulatorState, Operations],
) -> None:
    state, operations = ops
    state.faults.append(Fault(route="zendesk.ticket", drop=True, times=1))
    with pytest.raises(PlatformError):  # Zendesk made the ticket, the answer was lost
        await operations.open_ticket(action(target="zendesk"))
    state.zendesk_key_lifetime = 0.0  # the retry comes after two hours: the key is forgotten
    retried = await operations.open_ticket(action(target="zendesk"))
    (ticket,) = state.tickets
    assert retried.ref == str(ticket["id"]) and retried.detail == "already opened"


async def test_a_cases_second_ticket_step_is_not_taken_for_its_first(
    ops: tuple[EmulatorState, Operations],
) -> None:
    state, operations = ops
    first = await operations.open_ticket(action(target="zendesk", step_id="ticket", key="c/1"))
    second = await operations.open_ticket(
        action(target="zendesk", step_id="ticket_billing", key="c/2")
    )
    assert first.ref != second.ref and len(state.tickets) == 2
    assert {t["external_id"] for t in state.tickets} == {"case-x-1"}


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

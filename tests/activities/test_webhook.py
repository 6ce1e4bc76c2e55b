"""The actions webhook over real HTTP on loopback: signed, idempotent, errors classified."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from complaintflow.activities.webhook import ActionWebhook
from complaintflow.errors import PlatformError
from complaintflow.platforms.http import Action
from complaintflow.signatures import sign
from complaintflow.workflows.messages import ActionRequest, ActionResult
from tests.support.receiver import receiver

REQUEST = ActionRequest(
    case_id="case-x-1",
    step_id="reply_acknowledge",
    kind="reply",
    platform="x",
    thread_id="1",
    mention_id="1",
    text="Sorry!",
    key="case-x-1/reply_acknowledge",
)


def reply_activity(webhook: ActionWebhook) -> Action:
    return next(
        a
        for a in webhook.activities()
        if getattr(a, "__temporal_activity_definition").name == "complaintflow.post_reply"
    )


async def test_posts_signed_json_with_an_idempotency_key() -> None:
    with receiver() as rx:
        webhook = ActionWebhook(rx.url, "s3cret")
        result = await ActivityEnvironment().run(reply_activity(webhook), REQUEST)
        await webhook.client.aclose()
    assert result == ActionResult(ref="ref-1", detail="done")
    (got,) = rx.requests
    assert got.path == "/post_reply"
    assert got.headers["Idempotency-Key"] == "case-x-1/reply_acknowledge"
    expected = "sha256=" + hmac.new(b"s3cret", got.body, hashlib.sha256).hexdigest()
    assert got.headers["X-Complaintflow-Signature"] == expected == sign(b"s3cret", got.body)
    assert got.json()["text"] == "Sorry!" and got.json()["thread_id"] == "1"


@pytest.mark.parametrize(
    ("status", "headers", "retryable", "delay"),
    [
        (500, {}, True, None),
        (503, {}, True, None),
        (429, {"Retry-After": "7"}, True, 7.0),
        (403, {}, False, None),
        (404, {}, False, None),
        (400, {}, False, None),
    ],
)
async def test_errors_are_classified(
    status: int, headers: dict[str, str], retryable: bool, delay: float | None
) -> None:
    with receiver() as rx:
        rx.script.append((status, headers, '{"error": "the platform says no"}'))
        webhook = ActionWebhook(rx.url, "k")
        with pytest.raises(ApplicationError) as failed:
            await ActivityEnvironment().run(reply_activity(webhook), REQUEST)
        await webhook.client.aclose()
    error = failed.value
    assert error.non_retryable is (not retryable)
    assert f"post_reply: {status} " in error.message
    assert "the platform says no" in error.message
    assert error.next_retry_delay == (timedelta(seconds=delay) if delay else None)


async def test_connection_refused_is_retryable() -> None:
    with receiver() as rx:
        url = rx.url
    webhook = ActionWebhook(url, "k", client=httpx.AsyncClient(timeout=1.0))
    with pytest.raises(PlatformError) as failed:
        await webhook.deliver("post_reply", REQUEST)
    await webhook.client.aclose()
    assert failed.value.retryable


def test_configuration_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPLAINTFLOW_ACTIONS_URL", raising=False)
    with pytest.raises(ValueError, match="set COMPLAINTFLOW_ACTIONS_URL"):
        ActionWebhook.from_environment()
    monkeypatch.setenv("COMPLAINTFLOW_ACTIONS_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("COMPLAINTFLOW_ACTIONS_SECRET", "k")
    assert ActionWebhook.from_environment().base_url == "http://127.0.0.1:9"

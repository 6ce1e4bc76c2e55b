"""Team notifications: Slack or a generic JSON webhook.

Slack routes by channel: with a bot token through chat.postMessage to the step's channel, else
through the incoming webhook configured for that channel (a webhook posts only to the channel
it was created for), else through the one default webhook (whose own channel gets every alert,
marked with the channel meant).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import httpx

from complaintflow.errors import PlatformError
from complaintflow.platforms.http import post_json, send
from complaintflow.workflows.messages import ActionRequest, ActionResult

if TYPE_CHECKING:
    from complaintflow.activities.operations import OperationsConfig


async def notify(
    config: OperationsConfig, client: httpx.AsyncClient, request: ActionRequest
) -> ActionResult:
    """Alert the team; `via` is slack or webhook, `target` the channel or audience."""
    text = request.text or f"Case {request.case_id}: {request.step_id}"
    if request.via == "slack":
        return await _slack(config, client, request, text)
    await post_json(
        client,
        config.notify_webhook_url,
        {
            "case_id": request.case_id,
            "target": request.target,
            "priority": request.priority,
            "text": text,
        },
        {"Idempotency-Key": request.key},
    )
    return ActionResult(request.key, f"notified {request.target}")


async def _slack(
    config: OperationsConfig, client: httpx.AsyncClient, request: ActionRequest, text: str
) -> ActionResult:
    channel = request.target
    if config.slack_bot_token:
        # https://docs.slack.dev/reference/methods/chat.postMessage: Bearer bot token,
        # JSON {channel, text}; failures are HTTP 200 with {"ok": false, "error"}.
        answer = await send(
            client,
            "POST",
            config.slack_api_url.rstrip("/") + "/chat.postMessage",
            what="Slack chat.postMessage",
            json={"channel": channel, "text": text},
            headers={
                "Authorization": f"Bearer {config.slack_bot_token}",
                "Content-Type": "application/json; charset=utf-8",
            },
        )
        if not isinstance(answer, dict) or answer.get("ok") is not True:
            problem = answer.get("error", "no answer") if isinstance(answer, dict) else "?"
            raise PlatformError(
                f"Slack chat.postMessage to {channel}: {problem}"
                + (" (invite the app to the channel)" if problem == "not_in_channel" else ""),
                retryable=problem in ("ratelimited", "internal_error", "fatal_error"),
            )
        return ActionResult(str(answer.get("ts", "")), f"notified {channel}")
    hook = config.slack_webhooks.get(channel)
    if hook:
        await post_json(client, hook, {"text": text})
        return ActionResult(request.key, f"notified {channel}")
    # The default webhook's own channel gets it: say which channel it was meant for.
    shown = f"[{channel}] {text}" if channel else text
    await post_json(client, config.slack_webhook_url, {"text": shown})
    return ActionResult(request.key, f"notified the default Slack channel (for {channel})")


def channel_hooks(value: str) -> dict[str, str]:
    """COMPLAINTFLOW_SLACK_WEBHOOKS: a JSON object {"#channel": "https://hooks.slack.com/..."}."""
    if not value.strip():
        return {}
    try:
        hooks = json.loads(value)
    except ValueError as exc:
        raise ValueError(f"COMPLAINTFLOW_SLACK_WEBHOOKS is not JSON: {exc}") from None
    if not isinstance(hooks, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in hooks.items()
    ):
        raise ValueError('COMPLAINTFLOW_SLACK_WEBHOOKS must be {"#channel": "webhook URL", ...}')
    return hooks

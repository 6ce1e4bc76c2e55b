"""The brand's own systems: team notifications, helpdesk tickets, and the complaint archive.

Notifications go to Slack or a generic JSON webhook. Slack routes by channel: with a bot token
through chat.postMessage to the step's channel, else through the incoming webhook configured
for that channel (a webhook posts only to the channel it was created for), else through the
one default webhook (whose own channel gets every alert, marked with the channel meant).
Tickets go to Zendesk (`POST /api/v2/tickets.json`, with an Idempotency-Key so a retried
step opens one ticket; the key lasts two hours, so a retry first looks the ticket up by its
external id) or a generic JSON webhook; archived complaints to an append-only JSON-lines
file, written before any public post is hidden or deleted.
"""

import asyncio
import base64
import dataclasses
import json
import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from complaintflow.errors import PlatformError
from complaintflow.platforms.http import TIMEOUT, Action, as_activity, may_have_run_before, send
from complaintflow.workflows import registry
from complaintflow.workflows.messages import ActionRequest, ActionResult


@dataclasses.dataclass(frozen=True)
class OperationsConfig:
    """Where notifications, tickets and archives go (from the environment)."""

    slack_webhook_url: str = ""  # default incoming webhook (posts to its own channel only)
    slack_webhooks: Mapping[str, str] = dataclasses.field(default_factory=dict)  # by channel
    slack_bot_token: str = ""
    slack_api_url: str = "https://slack.com/api"
    notify_webhook_url: str = ""
    zendesk_url: str = ""
    zendesk_email: str = ""
    zendesk_token: str = ""
    ticket_webhook_url: str = ""
    archive_dir: Path = Path(".complaintflow/archive")

    @classmethod
    def from_environment(cls) -> "OperationsConfig":
        env = os.environ
        return cls(
            slack_webhook_url=env.get("COMPLAINTFLOW_SLACK_WEBHOOK_URL", ""),
            slack_webhooks=_channel_hooks(env.get("COMPLAINTFLOW_SLACK_WEBHOOKS", "")),
            slack_bot_token=env.get("COMPLAINTFLOW_SLACK_BOT_TOKEN", ""),
            slack_api_url=env.get("COMPLAINTFLOW_SLACK_API_URL", cls.slack_api_url),
            notify_webhook_url=env.get("COMPLAINTFLOW_NOTIFY_WEBHOOK_URL", ""),
            zendesk_url=env.get("COMPLAINTFLOW_ZENDESK_URL", ""),
            zendesk_email=env.get("COMPLAINTFLOW_ZENDESK_EMAIL", ""),
            zendesk_token=env.get("COMPLAINTFLOW_ZENDESK_TOKEN", ""),
            ticket_webhook_url=env.get("COMPLAINTFLOW_TICKET_WEBHOOK_URL", ""),
            archive_dir=Path(env.get("COMPLAINTFLOW_ARCHIVE_DIR", ".complaintflow/archive")),
        )


class Operations:
    """Notify, ticket and archive adapters sharing one HTTP client."""

    def __init__(
        self, config: OperationsConfig, *, client: httpx.AsyncClient | None = None
    ) -> None:
        self.config = config
        self.client = client or httpx.AsyncClient(timeout=TIMEOUT)

    async def _post(
        self, url: str, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> Any:
        if not url:
            raise PlatformError(
                "no endpoint is configured for this action (see the README's "
                "environment variables)",
                retryable=False,
            )
        return await send(self.client, "POST", url, json=payload, headers=headers or {})

    async def notify(self, request: ActionRequest) -> ActionResult:
        """Alert the team; `via` is slack or webhook, `target` the channel or audience."""
        text = request.text or f"Case {request.case_id}: {request.step_id}"
        if request.via == "slack":
            return await self._slack(request, text)
        await self._post(
            self.config.notify_webhook_url,
            {
                "case_id": request.case_id,
                "target": request.target,
                "priority": request.priority,
                "text": text,
            },
            {"Idempotency-Key": request.key},
        )
        return ActionResult(request.key, f"notified {request.target}")

    async def _slack(self, request: ActionRequest, text: str) -> ActionResult:
        channel = request.target
        if self.config.slack_bot_token:
            # https://docs.slack.dev/reference/methods/chat.postMessage: Bearer bot token,
            # JSON {channel, text}; failures are HTTP 200 with {"ok": false, "error"}.
            answer = await send(
                self.client,
                "POST",
                self.config.slack_api_url.rstrip("/") + "/chat.postMessage",
                what="Slack chat.postMessage",
                json={"channel": channel, "text": text},
                headers={
                    "Authorization": f"Bearer {self.config.slack_bot_token}",
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
        hook = self.config.slack_webhooks.get(channel)
        if hook:
            await self._post(hook, {"text": text})
            return ActionResult(request.key, f"notified {channel}")
        # The default webhook's own channel gets it: say which channel it was meant for.
        shown = f"[{channel}] {text}" if channel else text
        await self._post(self.config.slack_webhook_url, {"text": shown})
        return ActionResult(request.key, f"notified the default Slack channel (for {channel})")

    async def open_ticket(self, request: ActionRequest) -> ActionResult:
        """Open a helpdesk ticket for the case, once per step."""
        subject = f"[{request.platform}] complaint case {request.case_id}"
        body = (
            f"Public complaint on {request.platform} (thread {request.thread_id}, post "
            f"{request.mention_id}) by @{request.author_handle}."
        )
        if request.target == "zendesk":
            credentials = f"{self.config.zendesk_email}/token:{self.config.zendesk_token}"
            auth = "Basic " + base64.b64encode(credentials.encode()).decode()
            tickets = self.config.zendesk_url.rstrip("/") + "/api/v2/tickets.json"
            tag = _step_tag(request.step_id)
            if may_have_run_before() and (
                existing := await self._zendesk_ticket(tickets, auth, request.case_id, tag)
            ):
                return ActionResult(existing, "already opened")
            answer = await self._post(
                tickets,
                {
                    "ticket": {
                        "subject": subject,
                        "comment": {"body": body},
                        "priority": request.priority or "normal",
                        "external_id": request.case_id,
                        "tags": [tag],
                    }
                },
                {"Authorization": auth, "Idempotency-Key": request.key},
            )
            return ActionResult(str(answer.get("ticket", {}).get("id", "")))
        answer = await self._post(
            self.config.ticket_webhook_url,
            {
                "case_id": request.case_id,
                "subject": subject,
                "body": body,
                "priority": request.priority,
            },
            {"Idempotency-Key": request.key},
        )
        return ActionResult(str(answer.get("id", request.key)))

    async def _zendesk_ticket(self, tickets: str, auth: str, case_id: str, tag: str) -> str:
        """The id of the ticket this step opened, or "". Zendesk forgets an Idempotency-Key
        after two hours (https://developer.zendesk.com/api-reference/ticketing/introduction/
        #idempotency), and a retry can come later than that, so it looks the case's tickets
        up by external id (https://developer.zendesk.com/api-reference/ticketing/tickets/
        tickets/#list-tickets) and takes the one tagged with this step."""
        if not self.config.zendesk_url:
            return ""  # _post says what is missing
        found = await send(
            self.client,
            "GET",
            tickets,
            what="Zendesk list tickets",
            params={"external_id": case_id},
            headers={"Authorization": auth},
        )
        listed = found.get("tickets") if isinstance(found, dict) else None
        for ticket in listed if isinstance(listed, list) else []:
            if isinstance(ticket, dict) and tag in (ticket.get("tags") or []):
                return str(ticket.get("id", ""))
        return ""

    async def archive(self, request: ActionRequest) -> ActionResult:
        """Keep a copy of the public complaint before it is hidden or deleted."""
        record = {
            "archived_at": datetime.now(UTC).isoformat(),
            "case_id": request.case_id,
            "platform": request.platform,
            "post_id": request.mention_id,
            "thread_id": request.thread_id,
            "author": request.author_handle,
            "text": request.text,
        }
        path = self.config.archive_dir / f"{datetime.now(UTC):%Y-%m}.jsonl"
        await asyncio.to_thread(_append, path, json.dumps(record, ensure_ascii=False))
        return ActionResult(f"{path.name}:{request.mention_id}", "archived")

    def activities(self) -> list[Action]:
        return [
            as_activity(registry.NOTIFY, self.notify),
            as_activity(registry.OPEN_TICKET, self.open_ticket),
            as_activity(registry.ARCHIVE_POST, self.archive),
        ]


def _channel_hooks(value: str) -> dict[str, str]:
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


def _step_tag(step_id: str) -> str:
    """The Zendesk tag naming the step that opened a ticket (tags are lower-case words;
    a case's tickets share its external id, the tag tells its steps apart)."""
    return "complaintflow_step_" + re.sub(r"[^a-z0-9_]", "_", step_id.lower())


def _append(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as archive:
        archive.write(line + "\n")
        archive.flush()
        os.fsync(archive.fileno())

"""The brand's own systems: team notifications, helpdesk tickets, and the complaint archive.

Notifications go to a Slack incoming webhook or a generic JSON webhook; tickets to Zendesk
(`POST /api/v2/tickets.json`, with an Idempotency-Key so a retried step opens one ticket) or a
generic JSON webhook; archived complaints to an append-only JSON-lines file, written before
any public post is hidden or deleted.
"""

import asyncio
import base64
import dataclasses
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from complaintflow.activities.base import TIMEOUT, Action, as_activity, send
from complaintflow.errors import PlatformError
from complaintflow.workflows import registry
from complaintflow.workflows.messages import ActionRequest, ActionResult


@dataclasses.dataclass(frozen=True)
class OperationsConfig:
    """Where notifications, tickets and archives go (from the environment)."""

    slack_webhook_url: str = ""
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
            await self._post(
                self.config.slack_webhook_url, {"text": text, "channel": request.target}
            )
        else:
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
            answer = await self._post(
                self.config.zendesk_url.rstrip("/") + "/api/v2/tickets.json",
                {
                    "ticket": {
                        "subject": subject,
                        "comment": {"body": body},
                        "priority": request.priority or "normal",
                        "external_id": request.case_id,
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


def _append(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as archive:
        archive.write(line + "\n")
        archive.flush()
        os.fsync(archive.fileno())

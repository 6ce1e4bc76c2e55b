"""The brand's own systems: team notifications (`notify`), helpdesk tickets (`tickets`) and
the complaint archive (`archive`), configured from the environment and served as activities
sharing one HTTP client.
"""

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

import httpx

from complaintflow.activities import archive, notify, tickets
from complaintflow.platforms.http import TIMEOUT, Action, as_activity
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
            slack_webhooks=notify.channel_hooks(env.get("COMPLAINTFLOW_SLACK_WEBHOOKS", "")),
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

    async def notify(self, request: ActionRequest) -> ActionResult:
        """Alert the team; `via` is slack or webhook, `target` the channel or audience."""
        return await notify.notify(self.config, self.client, request)

    async def open_ticket(self, request: ActionRequest) -> ActionResult:
        """Open a helpdesk ticket for the case, once per step."""
        return await tickets.open_ticket(self.config, self.client, request)

    async def archive(self, request: ActionRequest) -> ActionResult:
        """Keep a copy of the public complaint before it is hidden or deleted."""
        return await archive.archive(self.config, request)

    def activities(self) -> list[Action]:
        return [
            as_activity(registry.NOTIFY, self.notify),
            as_activity(registry.OPEN_TICKET, self.open_ticket),
            as_activity(registry.ARCHIVE_POST, self.archive),
        ]

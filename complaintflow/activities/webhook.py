"""Delivers each case action as a signed JSON POST to an endpoint the brand runs.

The generic adapter: one endpoint receives every action (reply, private message, ticket,
notification, archive, removal) at `{base}/{action}` and answers `{"ref": "...", "detail": ...}`.
Each request carries `Idempotency-Key` (stable across retries of the same step) so the receiver
performs it once, and `X-Complaintflow-Signature: sha256=HMAC(secret, body)`.

Errors are classified like the platforms': 429 and 5xx are retried (honouring Retry-After),
timeouts and connection errors are retried, other 4xx stop with the receiver's message kept.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os

import httpx

from complaintflow.platforms.http import TIMEOUT, Action, as_activity, send
from complaintflow.signatures import sign
from complaintflow.workflows import registry
from complaintflow.workflows.messages import ActionRequest, ActionResult

URL_ENV = "COMPLAINTFLOW_ACTIONS_URL"
SECRET_ENV = "COMPLAINTFLOW_ACTIONS_SECRET"


class ActionWebhook:
    """One HTTP client per process, posting actions to `base_url`."""

    def __init__(
        self, base_url: str, secret: str, *, client: httpx.AsyncClient | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.secret = secret.encode()
        self.client = client or httpx.AsyncClient(timeout=TIMEOUT)

    @classmethod
    def from_environment(cls) -> ActionWebhook:
        """Configured from COMPLAINTFLOW_ACTIONS_URL and COMPLAINTFLOW_ACTIONS_SECRET."""
        url, secret = os.environ.get(URL_ENV, ""), os.environ.get(SECRET_ENV, "")
        if not url or not secret:
            raise ValueError(
                f"set {URL_ENV} (where actions are posted) and {SECRET_ENV} "
                "(the key that signs them)"
            )
        return cls(url, secret)

    async def deliver(self, action: str, request: ActionRequest) -> ActionResult:
        """POST one action; raise PlatformError when it did not happen."""
        body = json.dumps(dataclasses.asdict(request), separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": request.key,
            "X-Complaintflow-Signature": sign(self.secret, body),
        }
        data = await send(
            self.client,
            "POST",
            f"{self.base_url}/{action}",
            what=action,
            reason=lambda response: response.text[:500].strip() or response.reason_phrase,
            content=body,
            headers=headers,
        )
        if not isinstance(data, dict):
            data = {}
        return ActionResult(ref=str(data.get("ref", "")), detail=str(data.get("detail", "")))

    def activities(self) -> list[Action]:
        """One activity per registered action name, all delivered through this webhook."""
        return [
            as_activity(name, functools.partial(self.deliver, name.removeprefix("complaintflow.")))
            for name in registry.ALL_ACTIVITIES
        ]

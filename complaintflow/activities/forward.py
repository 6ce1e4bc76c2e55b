"""Hands polled mentions to the ingest service, signed like any webhook, so polled and pushed
mentions take exactly the same path (enrichment, triage, case start, decision log)."""

import dataclasses
import json
import os
from collections.abc import Awaitable, Callable

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from complaintflow.signatures import sign
from complaintflow.workflows import registry
from complaintflow.workflows.messages import PollResult


class IngestForwarder:
    """POSTs pages of mentions to `{ingest_url}/webhooks/generic`."""

    def __init__(
        self, ingest_url: str, secret: str, *, client: httpx.AsyncClient | None = None
    ) -> None:
        self.url = ingest_url.rstrip("/") + "/webhooks/generic"
        self.secret = secret.encode()
        self.client = client or httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0))

    @classmethod
    def from_environment(cls) -> "IngestForwarder | None":
        """From COMPLAINTFLOW_INGEST_URL and COMPLAINTFLOW_WEBHOOK_SECRET; None when unset."""
        url = os.environ.get("COMPLAINTFLOW_INGEST_URL", "")
        secret = os.environ.get("COMPLAINTFLOW_WEBHOOK_SECRET", "")
        return cls(url, secret) if url and secret else None

    async def forward(self, page: PollResult) -> int:
        body = json.dumps({"mentions": [dataclasses.asdict(m) for m in page.mentions]}).encode()
        try:
            response = await self.client.post(
                self.url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Complaintflow-Signature": sign(self.secret, body),
                },
            )
        except httpx.TransportError as exc:
            raise ApplicationError(f"ingest unreachable: {exc!r}") from exc
        if response.status_code >= 400:
            raise ApplicationError(
                f"ingest answered {response.status_code}: {response.text[:300]}",
                non_retryable=400 <= response.status_code < 500,
            )
        return len(page.mentions)

    def activities(self) -> list[Callable[..., Awaitable[int]]]:
        @activity.defn(name=registry.INGEST_MENTIONS)
        async def ingest_mentions(page: PollResult) -> int:
            return await self.forward(page)

        return [ingest_mentions]

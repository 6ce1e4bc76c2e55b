"""Hands polled mentions to the ingest service, signed like any webhook, so polled and pushed
mentions take exactly the same path (enrichment, triage, case start, decision log)."""

import dataclasses
import json
import os
from collections.abc import Awaitable, Callable

import httpx

from complaintflow.errors import PlatformError
from complaintflow.platforms.http import as_activity, send
from complaintflow.signatures import sign
from complaintflow.workflows import registry
from complaintflow.workflows.messages import PollResult


def _refused(_what: str, response: httpx.Response) -> PlatformError:
    """Ingest's error answer in its own words: any 4xx is final (a malformed page or a wrong
    secret will not change on retry), a 5xx is retried."""
    status = response.status_code
    return PlatformError(
        f"ingest answered {status}: {response.text[:300]}", status=status, retryable=status >= 500
    )


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
        """POST one page; PlatformError when ingest did not take it (unreachable is retried)."""
        body = json.dumps({"mentions": [dataclasses.asdict(m) for m in page.mentions]}).encode()
        await send(
            self.client,
            "POST",
            self.url,
            what="ingest unreachable",  # names a failed connection; an answer is `_refused`
            failure=_refused,
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Complaintflow-Signature": sign(self.secret, body),
            },
        )
        return len(page.mentions)

    def activities(self) -> list[Callable[..., Awaitable[int]]]:
        return [as_activity(registry.INGEST_MENTIONS, self.forward)]

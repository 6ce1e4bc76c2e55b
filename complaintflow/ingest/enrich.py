"""Customer lookup for enrichment: what the brand's CRM knows about a post's author.

A configurable HTTP endpoint (`GET {url}?platform=x&author_id=...&handle=...` answering
`{"known": true, "tier": "gold", "id": "..."}`), cached for a few minutes. A CRM that is
down or slow makes the author unknown rather than holding up ingest.
"""

import os
import time
from collections import OrderedDict

import httpx
import structlog

from complaintflow.rules.mention import Customer, Mention

log = structlog.get_logger()


class CustomerLookup:
    """Looks authors up in the CRM, with a small time-limited cache."""

    def __init__(
        self,
        url: str,
        *,
        token: str = "",
        ttl: float = 300.0,
        size: int = 10_000,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = url
        self.token = token
        self.ttl = ttl
        self.size = size
        self.client = client or httpx.AsyncClient(timeout=httpx.Timeout(2.0))
        self._cache: OrderedDict[tuple[str, str], tuple[float, Customer]] = OrderedDict()

    @classmethod
    def from_environment(cls) -> "CustomerLookup | None":
        """From COMPLAINTFLOW_CRM_URL (and COMPLAINTFLOW_CRM_TOKEN); None when not set."""
        url = os.environ.get("COMPLAINTFLOW_CRM_URL", "")
        return cls(url, token=os.environ.get("COMPLAINTFLOW_CRM_TOKEN", "")) if url else None

    async def find(self, mention: Mention) -> Customer:
        author = mention.author
        key = (mention.platform, author.id or author.handle)
        cached = self._cache.get(key)
        if cached and time.monotonic() - cached[0] < self.ttl:
            self._cache.move_to_end(key)
            return cached[1]
        customer = await self._ask(mention)
        self._cache[key] = (time.monotonic(), customer)
        if len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return customer

    async def _ask(self, mention: Mention) -> Customer:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = await self.client.get(
                self.url,
                headers=headers,
                params={
                    "platform": mention.platform,
                    "author_id": mention.author.id,
                    "handle": mention.author.handle,
                },
            )
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("crm.unavailable", error=str(exc)[:200])
            return Customer()
        if not isinstance(data, dict) or data.get("known") is not True:
            return Customer()
        return Customer(known=True, tier=str(data.get("tier", "")), id=str(data.get("id", "")))

"""Who a case's customer is in private conversations, learnt by the worker when a private
reply reaches them, kept in the decision store where ingest matches their messages.

On Messenger and Instagram a commenter is named in private conversations by another id than
on their comment (a page-scoped PSID, an Instagram-scoped IGSID); the private reply to their
comment answers with it as `recipient_id`
(https://developers.facebook.com/docs/messenger-platform/discovery/private-replies/). The
store is COMPLAINTFLOW_DATABASE_URL's (SQLite in the state folder without it), opened on the
first private reply, once per worker process, as the label recorder opens it.
"""

from __future__ import annotations

import asyncio

import structlog

from complaintflow.store import DecisionStore, open_store
from complaintflow.workflows.messages import ActionRequest

log = structlog.get_logger()


class CaseAuthors:
    """Records `author → case` for private conversations in one store, opened when needed."""

    def __init__(self, store: DecisionStore | None = None) -> None:
        self.store = store
        self._opening = asyncio.Lock()

    async def _store(self) -> DecisionStore:
        async with self._opening:
            if self.store is None:
                self.store = await asyncio.to_thread(open_store, None)
            return self.store

    async def record(self, request: ActionRequest, author_id: str) -> None:
        """Note that `author_id` is the customer of `request`'s case on its platform.

        Never fails the step: the message is sent already, and a customer whose id was not
        kept still reaches the case by quoting its reference (`{case.ref}`)."""
        try:
            store = await self._store()
            await store.record_case_author(
                policy=request.policy,
                platform=request.platform,
                author_id=author_id[:100],
                case_id=request.case_id,
            )
        except Exception as exc:
            log.warning(
                "case_author.not_recorded",
                case_id=request.case_id,
                platform=request.platform,
                error=str(exc)[:300],
            )

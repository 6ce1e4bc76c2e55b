"""Platform adapters behind one protocol, and where their endpoints and credentials come from.

Every outbound post is exactly once from the customer's point of view. A retry may follow an
attempt whose outcome is unknown (the platform committed, then the connection dropped), so
before posting again an adapter looks for what it may already have done, as the platform
keeps it: the brand's own reply in the thread (X adds leading @mentions, escapes &<> and
shortens links; Instagram files replies under the top-level comment), the private message
the brand sent (Facebook refuses a second private reply to a comment, which is taken as
done), the post already hidden or deleted.

Errors are classified: 429 and 5xx retry (honouring Retry-After / x-rate-limit-reset), Graph
throttling codes retry, timeouts and dropped connections retry, other 4xx stop with the
platform's message kept. Each platform's adapter lives in its folder
(platforms/<name>/adapter.py), found through the platform registry.
"""

from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from complaintflow.activities.authors import CaseAuthors
from complaintflow.errors import PlatformError
from complaintflow.platforms import registry
from complaintflow.platforms.credentials import TokenStore
from complaintflow.platforms.http import TIMEOUT, Action, as_activity
from complaintflow.platforms.settings import Endpoints, PlatformAdapter
from complaintflow.workflows import registry as names
from complaintflow.workflows.messages import ActionRequest, ActionResult

__all__ = ["Endpoints", "PlatformAdapter", "Platforms"]

AdapterT = TypeVar("AdapterT")


class Platforms:
    """The adapters for one process (one HTTP client, connection pooling, timeouts set)."""

    def __init__(
        self,
        endpoints: Endpoints,
        *,
        client: httpx.AsyncClient | None = None,
        store: TokenStore | None = None,
        authors: CaseAuthors | None = None,
    ) -> None:
        self.endpoints = endpoints
        self.authors = authors or CaseAuthors()
        self.client = client or httpx.AsyncClient(timeout=TIMEOUT)
        parts = registry.adapters()
        if store is None and any(part.oauth(endpoints) for part in parts):
            store = TokenStore(endpoints.token_store)
        self.store = store
        self.parts = {part.folder: part for part in parts}
        # Each platform folder's adapter, by folder name.
        self.by_folder = {part.folder: part.build(endpoints, self.client, store) for part in parts}
        self.adapters = {name: a for a in self.by_folder.values() for name in a.platforms}

    def adapter(self, folder: str, kind: type[AdapterT]) -> AdapterT:
        """The adapter of platform folder `folder`, as the `kind` it is."""
        adapter = self.by_folder[folder]
        if not isinstance(adapter, kind):
            raise TypeError(f"the {folder} adapter is a {type(adapter).__name__}")
        return adapter

    def missing(self) -> list[str]:
        """The variables the platforms need that the environment lacks."""
        return [name for part in self.parts.values() for name in part.missing(self.endpoints)]

    def _for(self, request: ActionRequest, what: str) -> PlatformAdapter:
        adapter = self.adapters.get(request.platform)
        if adapter is None:
            raise PlatformError(f"{what} on {request.platform} is not supported", retryable=False)
        return adapter

    async def reply(self, request: ActionRequest) -> ActionResult:
        """Answer publicly in the complaint's thread, on its own platform (a private
        complaint: in its private conversation)."""
        if request.conversation:
            return await self._in_conversation(request)
        return await self._for(request, "replying").reply(request)

    async def private_message(self, request: ActionRequest) -> ActionResult:
        """Move the conversation offline: one private message to the author. The id the
        platform then names them by in private (a PSID / IGSID) is kept as the case's
        author, so their later messages reach the case without quoting its reference."""
        if request.conversation:
            return await self._in_conversation(request)
        result = await self._for(request, "private messages").private_message(request)
        if result.recipient and request.policy:
            await self.authors.record(request, result.recipient)
        return result

    async def _in_conversation(self, request: ActionRequest) -> ActionResult:
        """A message in the private conversation the customer started (X DM, Messenger,
        Instagram Direct)."""
        adapter = self._for(request, "answering in a private conversation")
        send = getattr(adapter, "conversation_message", None)
        if send is None:
            raise PlatformError(
                f"{request.platform} has no private conversations to answer in", retryable=False
            )
        result: ActionResult = await send(request)
        return result

    async def remove(self, request: ActionRequest) -> ActionResult:
        """Hide or delete the public complaint (the workflow checked ownership first)."""
        return await self._for(request, "removal").remove(request)

    def activities(self) -> list[Action]:
        """Activities for the platform actions, under the registry's names."""
        return [
            as_activity(names.POST_REPLY, self.reply),
            as_activity(names.SEND_PRIVATE_MESSAGE, self.private_message),
            as_activity(names.REMOVE_POST, self.remove),
        ]

    def poller_activities(self) -> list[Callable[..., Any]]:
        """What background workflows run on the adapters (the X mentions poll)."""
        return [
            action
            for folder, adapter in self.by_folder.items()
            for action in self.parts[folder].background(adapter)
        ]

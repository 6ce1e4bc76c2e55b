"""Client-side helpers: open a case for a triaged mention, find cases, read their states,
act on them.

Used by ingest (to start or signal a case), the CLI and tests. Opening a case is a
signal-with-start: the first post starts the workflow, later posts in the thread signal it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import re
from datetime import UTC, datetime

from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.envconfig import ClientConfig
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode

from complaintflow.codec.keys import converter_from_environment
from complaintflow.errors import ComplaintflowError
from complaintflow.rules.features import is_thanks
from complaintflow.rules.mention import Mention
from complaintflow.rules.model import CompiledPolicy
from complaintflow.rules.triage import Decision
from complaintflow.workflows import search
from complaintflow.workflows.case import CaseWorkflow, initial_search_attributes
from complaintflow.workflows.case.visibility import start_details, start_summary
from complaintflow.workflows.messages import (
    MAX_CASE_TEXT,
    MAX_THREAD_TEXT,
    CaseInput,
    CaseState,
    CaseStatus,
    ContactAction,
    SupervisorAction,
    ThreadUpdate,
)

_PLAIN = re.compile(r"[A-Za-z0-9._-]{1,200}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def key_part(value: str) -> str:
    """`value` as part of a workflow id: itself when plain; otherwise made plain and followed
    by `~` and a hash of the original, so that two different values never share a key."""
    if _PLAIN.fullmatch(value):
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{_UNSAFE.sub('_', value)[:100]}~{digest}"


def case_key(mention: Mention, brand: str) -> str:
    """The stable workflow id of a brand's case for a mention's thread: one case per thread and
    brand (`case-x-123@acme`). A part never holds `@` or `~` unless hashed, so keys of
    different (brand, platform, thread) never collide."""
    return f"case-{mention.platform}-{key_part(mention.thread)}@{key_part(brand)}"


async def open_case(
    client: Client,
    *,
    mention: Mention,
    decision: Decision,
    policy: CompiledPolicy,
    task_queue: str,
) -> WorkflowHandle[CaseWorkflow, CaseState]:
    """Start the thread's case, or signal it if it is already running (signal-with-start)."""
    if decision.playbook is None:
        raise ValueError("a throwaway remark does not open a case")
    case = CaseInput.of(
        case_key(mention, policy.name), _clipped(mention, MAX_CASE_TEXT), decision, policy
    )
    values = initial_search_attributes(case)
    keys = {k.name: k for k in search.ALL}
    attributes = TypedSearchAttributes(
        [SearchAttributePair(keys[name], value) for name, value in values.items()]
    )
    handle: WorkflowHandle[CaseWorkflow, CaseState] = await client.start_workflow(
        CaseWorkflow.run,
        case,
        id=case.case_id,
        task_queue=task_queue,
        search_attributes=attributes,
        static_summary=start_summary(mention, decision),
        static_details=start_details(mention, decision, policy),
        start_signal="thread_update",
        start_signal_args=[thread_post(mention, decision)],
    )
    return handle


def thread_post(mention: Mention, decision: Decision | None) -> ThreadUpdate:
    """A post for its thread's case. What the case reads of it is read here, where the text
    arrives; the workflow takes the result and a bounded text (its activations stay small
    whatever was written)."""
    return ThreadUpdate(_clipped(mention, MAX_THREAD_TEXT), decision, thanks=is_thanks(mention))


def _clipped(mention: Mention, limit: int) -> Mention:
    if len(mention.text) <= limit:
        return mention
    return dataclasses.replace(mention, text=mention.text[:limit])


DEFAULT_ADDRESS = "localhost:7233"


async def connect(profile: str | None = None, *, runtime: Runtime | None = None) -> Client:
    """A client from Temporal's environment configuration (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
    TEMPORAL_API_KEY, TLS options, TEMPORAL_PROFILE and the config file); localhost by default."""
    config = ClientConfig.load_client_connect_config(profile)
    config.setdefault("target_host", DEFAULT_ADDRESS)
    if runtime is not None:  # e.g. one exporting metrics
        return await Client.connect(
            **config, data_converter=converter_from_environment(), runtime=runtime
        )
    return await Client.connect(**config, data_converter=converter_from_environment())


@dataclasses.dataclass(frozen=True)
class CaseRow:
    """One line of `complaintflow cases`."""

    case_id: str
    status: str
    platform: str
    score: float | None
    route: str
    priority: str
    sla_due: datetime | None
    started: datetime | None = None  # when the case opened (its workflow's start)
    summary: str = ""  # the one line the Web UI's list shows (with summaries=True)


# How many open cases `oldest_first` reads to find the oldest: Temporal's SQL visibility
# (dev server, self-hosted SQL) lists newest first and cannot ORDER BY, so they are sorted here.
OLDEST_FIRST_SCAN = 10_000
# The summary is Markdown with every markup character escaped (visibility.md): read plainly.
_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()<>#+\-.!|~&=:])")


async def list_cases(
    client: Client,
    *,
    awaiting_approval: bool = False,
    limit: int = 100,
    policy: str | None = None,
    oldest_first: bool = False,
    summaries: bool = False,
) -> list[CaseRow]:
    """Open cases from Temporal's visibility (search attributes), newest first, or with
    `oldest_first` the `limit` that have waited longest; `policy` keeps the cases of one
    policy (by name, any version); `summaries` also reads each case's one-line summary."""
    query = "WorkflowType = 'CaseWorkflow' AND ExecutionStatus = 'Running'"
    if awaiting_approval:
        query += f" AND {search.CASE_AWAITING_APPROVAL.name} = true"
    if policy:
        quoted = policy.replace("\\", "\\\\").replace("'", "\\'")
        query += f" AND {search.CASE_POLICY.name} STARTS_WITH '{quoted}@v'"
    rows: list[CaseRow] = []
    async for execution in client.list_workflows(
        query, limit=max(limit, OLDEST_FIRST_SCAN) if oldest_first else limit
    ):
        found = execution.typed_search_attributes
        rows.append(
            CaseRow(
                case_id=execution.id,
                status=found.get(search.CASE_STATUS) or "",
                platform=found.get(search.CASE_PLATFORM) or "",
                score=found.get(search.CASE_SCORE),
                route=found.get(search.CASE_ROUTE) or "",
                priority=found.get(search.CASE_PRIORITY) or "",
                sla_due=found.get(search.CASE_SLA_DUE),
                started=execution.start_time,
            )
        )
    if oldest_first:
        rows.sort(key=lambda row: (row.started or datetime.max.replace(tzinfo=UTC), row.case_id))
        rows = rows[:limit]
    if summaries:
        rows = await _with_summaries(client, rows)
    return rows


# Characters a terminal would act on (escape sequences, bidi overrides): a summary written by
# another starter could hold them, and a supervisor's terminal must only show text.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def plain_summary(text: str) -> str:
    """A case's Markdown summary as plain one-line text for a terminal."""
    return _MARKDOWN_ESCAPE.sub(r"\1", _UNPRINTABLE.sub(" ", text))


async def _with_summaries(client: Client, rows: list[CaseRow], at_once: int = 20) -> list[CaseRow]:
    """Each row with its case's summary (the Web UI's one line, decoded by the client's
    converter, so an encrypted one is read when the keys are here), Markdown unescaped."""
    gate = asyncio.Semaphore(at_once)

    async def summary(row: CaseRow) -> CaseRow:
        async with gate:
            try:
                described = await client.get_workflow_handle(row.case_id).describe()
                text = await described.static_summary() or ""
            except (RPCError, ValueError, TypeError):  # gone since listed, or unreadable
                text = ""
        return dataclasses.replace(row, summary=plain_summary(text))

    return list(await asyncio.gather(*(summary(row) for row in rows)))


async def case_states(client: Client, *, limit: int, at_once: int = 20) -> list[CaseState]:
    """The state of up to `limit` cases, running (by query) or completed (their result);
    failed and terminated cases are left out. At most `at_once` requests are in flight."""
    executions = [
        e async for e in client.list_workflows("WorkflowType = 'CaseWorkflow'", limit=limit)
    ]
    gate = asyncio.Semaphore(at_once)

    async def guarded(execution: WorkflowExecution) -> CaseState | None:
        async with gate:
            return await _case_state(client, execution)

    found = await asyncio.gather(*(guarded(e) for e in executions))
    return [s for s in found if s is not None]


async def _case_state(client: Client, execution: WorkflowExecution) -> CaseState | None:
    handle = client.get_workflow_handle_for(CaseWorkflow.run, execution.id, run_id=execution.run_id)
    if execution.status == WorkflowExecutionStatus.RUNNING:
        found: CaseState = await handle.query(CaseWorkflow.state_query)
        return found
    if execution.status == WorkflowExecutionStatus.COMPLETED:
        return await handle.result()
    return None  # failed or terminated: nothing to count


class CaseNotOpen(ComplaintflowError, LookupError):
    """The case does not exist, or it is closed; the message says which."""


async def act(
    client: Client, case_id: str, update: str, action: SupervisorAction | ContactAction
) -> str:
    """Send a supervisor update (approve, edit, reject, resolve, escalate, close, contact)."""
    handle = client.get_workflow_handle(case_id)
    try:
        result: str = await handle.execute_update(update, action, result_type=str)
    except RPCError as exc:
        if exc.status is not RPCStatusCode.NOT_FOUND:
            raise
        try:  # Temporal says "not found" for a finished workflow too: tell them apart
            await handle.describe()
        except RPCError:
            raise CaseNotOpen(f"no such case: {case_id}") from None
        raise CaseNotOpen(f"case {case_id} is closed") from None
    return result


async def report_states(
    client: Client, *, since: datetime, limit: int, at_once: int = 20
) -> list[CaseState]:
    """The states of the cases started since `since`, and of every case awaiting approval
    now whenever it started (the report's backlog); at most `limit` cases."""
    stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    query = (
        f"WorkflowType = 'CaseWorkflow' AND (StartTime >= '{stamp}'"
        f" OR {search.CASE_AWAITING_APPROVAL.name} = true)"
    )
    executions = [e async for e in client.list_workflows(query, limit=limit)]
    gate = asyncio.Semaphore(at_once)

    async def guarded(execution: WorkflowExecution) -> CaseState | None:
        async with gate:
            return await _case_state(client, execution)

    found = await asyncio.gather(*(guarded(e) for e in executions))
    return [s for s in found if s is not None]


class NothingPending(ComplaintflowError, LookupError):
    """The case waits for no approval now; the message says what it waits for."""


async def pending_step(client: Client, case_id: str) -> str:
    """The step a case is waiting on a supervisor's approval for (by its `state` query)."""
    handle = client.get_workflow_handle_for(CaseWorkflow.run, case_id)
    try:  # described first: a closed case is said so without a worker replaying it
        described = await handle.describe()
    except RPCError as exc:
        if exc.status is not RPCStatusCode.NOT_FOUND:
            raise
        raise CaseNotOpen(f"no such case: {case_id}") from None
    if described.status != WorkflowExecutionStatus.RUNNING:
        raise CaseNotOpen(f"case {case_id} is closed")
    found: CaseState = await handle.query(CaseWorkflow.state_query)
    if found.status is CaseStatus.CLOSED:
        raise CaseNotOpen(f"case {case_id} is closed")
    if found.pending is None:
        step = f" at {found.current_step}" if found.current_step else ""
        raise NothingPending(
            f"case {case_id} is not waiting for an approval: it is {found.status.value}{step}"
        )
    return found.pending.step

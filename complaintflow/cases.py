"""Client-side helpers: open a case for a triaged mention, find cases, act on them.

Used by ingest (to start or signal a case), the CLI and tests. Opening a case is a
signal-with-start: the first post starts the workflow, later posts in the thread signal it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from complaintflow.rules.mention import Mention
from complaintflow.rules.model import CompiledPolicy
from complaintflow.rules.triage import Decision
from complaintflow.workflows import search
from complaintflow.workflows.case import CaseWorkflow, initial_search_attributes
from complaintflow.workflows.messages import CaseInput, ThreadUpdate

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def case_key(mention: Mention) -> str:
    """The stable workflow id of the case for a mention's thread: one case per thread."""
    return f"case-{mention.platform}-{_UNSAFE.sub('_', mention.thread)}"


async def open_case(
    client: Client,
    *,
    mention: Mention,
    decision: Decision,
    policy: CompiledPolicy,
    task_queue: str,
) -> WorkflowHandle[CaseWorkflow, object]:
    """Start the thread's case, or signal it if it is already running (signal-with-start)."""
    if decision.playbook is None:
        raise ValueError("a throwaway remark does not open a case")
    case = CaseInput(case_key(mention), mention, decision, policy)
    values = initial_search_attributes(case, datetime.now(UTC))
    keys = {k.name: k for k in search.ALL}
    attributes = TypedSearchAttributes(
        [SearchAttributePair(keys[name], value) for name, value in values.items()]
    )
    author = mention.author.handle or mention.author.name or "?"
    first_words = " ".join(mention.text.split())[:80]
    handle: WorkflowHandle[CaseWorkflow, object] = await client.start_workflow(
        CaseWorkflow.run,
        case,
        id=case.case_id,
        task_queue=task_queue,
        search_attributes=attributes,
        static_summary=f"{mention.platform} · @{author} · {decision.score} · "
        f"{decision.route}: {first_words}",
        static_details=_details(mention, decision, policy),
        start_signal="thread_update",
        start_signal_args=[ThreadUpdate(mention, decision)],
    )
    return handle


def _details(mention: Mention, decision: Decision, policy: CompiledPolicy) -> str:
    held = ", ".join(decision.held) or "none"
    return "\n".join(
        [
            f"**{mention.platform}** post `{mention.id}` by @{mention.author.handle} "
            f"({mention.author.followers} followers), thread `{mention.thread}`",
            "",
            *(f"> {line}" for line in mention.text.splitlines()),
            "",
            f"Score **{decision.score}** from signals: {held}.",
            f"Route **{decision.route}** → playbook **{decision.playbook}**, "
            f"policy {policy.label}.",
        ]
    )

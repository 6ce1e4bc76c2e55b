"""The promises, checked against a World after every step, as far as they can be observed:

I1 every accepted mention is in the store once, for its brand, and its case is that brand's;
I2 every case answers `state_query`, has no failed workflow task and was not ended by force;
   and the labels table holds at most one label per brand and mention, of a case of that brand;
   a step a resolve approved in advance is never asked for nor decided again, and a resolve
   that approves what it may not is refused with a reason (world.py) and resolves nothing;
I3 no platform action twice for one case run (replies per post and text, DMs per person and
   text, tickets, hides of a post): a closed case started again by a later post in its thread
   is a new run that acts again, so a DM or ticket may repeat as many times as its case id has
   runs; this holds when the platform fails inside the activity steps share;
I4 no 5xx, good batch entries taken (checked as each answer arrives, in world.py);
I5 search attributes within Temporal's 2,048-byte keyword limit, customer Markdown escaped in
   the summary and details a case starts with;
I6 /metrics does not grow with paths an outsider makes up (checked as the probe runs);
I7 no workflow task failed on the deadlock detector (TMPRL1101); in long runs, no workflow
   task took longer than a budget (the workers' workflow_task_execution_latency).

Contacts (private messages, helpdesks, a supervisor's `contact`): a private message reaches
at most one case, of its brand, the one whose reference it quotes when that case is open, and
is recorded there once (a redelivery is not a second contact); the brand's own echo and
receipts reach none; a case that took a contact is contacted and no longer waits for one (I1,
I2). Time: an approval's deadline does not move while it waits, whether or not the case
continues as new; a contact wait ends by its timeout (world.py, on a long sleep) (I2).
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from typing import Any

from temporalio.api.enums.v1 import WorkflowTaskFailedCause
from temporalio.client import WorkflowExecutionStatus, WorkflowHistory
from temporalio.service import RPCError

from tests.simulation.policies import BRANDS
from tests.simulation.steps import HOSTILE_MARKER
from tests.simulation.world import ANSWER_BOUND, HIDE_ROUTES, World

KEYWORD_LIMIT = 2048  # bytes: Temporal's default limit on one keyword search attribute value
_LEADING_MENTIONS = re.compile(r"^(@\w+\s+)+")
# Workflow task failures the server makes as part of its protocol, retried at once and harmless:
# a signal or update arrived while the task completed (a race the simulator makes on purpose).
_ROUTINE = (
    WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
    WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_STICKY_TASK_QUEUE,
)
# The audit of a resolve's approval in advance, and what a supervisor's decision audits.
IN_ADVANCE = "in advance, with the resolution"
DECISIONS = ("approved", "edited", "rejected")
_ENDED = (
    WorkflowExecutionStatus.TERMINATED,
    WorkflowExecutionStatus.FAILED,
    WorkflowExecutionStatus.TIMED_OUT,
)


async def check(world: World) -> list[str]:
    """Every violation seen now (each reported once per history), newest last."""
    found: list[str] = []
    found += await _store_and_cases(world)
    for case_id in sorted(set(world.model.cases) - world.model.quarantined):
        problems = await _case(world, case_id)
        if any(p.startswith(("I2", "I7")) for p in problems):
            await world.quarantine(case_id)
        found += problems
    found += _contacts(world)
    found += await _labels(world)
    found += await _platform_actions(world)
    found += [
        f"I5: {case_id} starts with customer Markdown unescaped in its summary or details"
        for case_id, summary, details in world.model.starts
        if HOSTILE_MARKER in summary + details
    ]
    slowest = max(world.activation_times(), default=0.0)
    if world.activation_budget is not None and slowest > world.activation_budget:
        found.append(
            f"I7: a workflow task took longer than {world.activation_budget:.0f} ms: "
            f"{slowest:.0f} ms"
        )
    fresh = [v for v in found if v not in world.model.violations]
    world.model.violations += fresh
    return [v for v in world.model.violations if v.startswith("I")]


async def _store_and_cases(world: World) -> list[str]:
    """I1: each accepted (brand, post) has its row, under that brand's policy."""
    rows = await world.store.decisions()
    stored = Counter((r.get("policy"), r.get("platform"), r.get("id")) for r in rows)
    return [
        f"I1: {platform} post {mention} was accepted for {policy} but the store has "
        f"{stored[(policy, platform, mention)]} rows for it under that brand"
        for policy, platform, mention in sorted(world.model.accepted)
        if stored[(policy, platform, mention)] != 1
    ]


async def _case(world: World, case_id: str) -> list[str]:
    """I2, I5 and I7 for one case, from its description, its history and its query."""
    handle = world.env.client.get_workflow_handle(case_id)
    try:
        description = await asyncio.wait_for(handle.describe(), ANSWER_BOUND)
        history = await asyncio.wait_for(handle.fetch_history(), ANSWER_BOUND)
    except Exception as exc:
        return [f"I2: {case_id} cannot be described: {exc!s:.200}"]
    found = []
    if description.status in _ENDED:
        found.append(f"I2: {case_id} ended {description.status.name}")
    found += _failed_tasks(case_id, history)
    found += _visibility(case_id, history)
    if description.status == WorkflowExecutionStatus.RUNNING:
        try:
            state = await asyncio.wait_for(handle.query("state_query"), ANSWER_BOUND)
        except Exception as exc:
            found.append(f"I2: {case_id} does not answer state_query: {exc!s:.200}")
            return found
        if isinstance(state, dict):
            first_run = description.raw_description.workflow_execution_info.first_run_id
            found += _waits(world, case_id, first_run, state)
            if case_id not in world.model.routed:
                found += _approved_ahead(case_id, state)
            world.case_states[case_id] = state
    return found


def _waits(world: World, case_id: str, first_run: str, state: dict[str, Any]) -> list[str]:
    """I2 for what a running case waits on: a contact it took ended its contact wait; an
    approval keeps the deadline it was asked with (continuing as new does not restart it)."""
    found = []
    told = any(
        entry.get("what") in ("customer made contact", "recorded the customer's contact")
        for entry in state.get("audit", [])
    )
    if (told or state.get("contacts")) and not state.get("contacted"):
        found.append(f"I2: {case_id} recorded a contact but is not contacted")
    if state.get("contacted") and state.get("status") == "awaiting_contact":
        found.append(f"I2: {case_id} took the customer's contact but still waits for it")
    pending = state.get("pending")
    if isinstance(pending, dict) and case_id not in world.model.routed:
        key = (case_id, first_run, str(pending.get("step")))
        first = world.model.deadlines.setdefault(key, str(pending.get("deadline")))
        # Once its deadline passed and the case escalated, an approval waits with no deadline
        # (shown empty after continuing as new): that wait did not restart.
        escalated = any(
            str(entry.get("what", "")).startswith("approval timed out")
            and entry.get("step") == key[2]
            for entry in state.get("audit", [])
        )
        if first != pending.get("deadline") and not (escalated and not pending.get("deadline")):
            found.append(
                f"I2: {case_id} waits for approval of {key[2]} until {pending.get('deadline')}, "
                f"but was asked to decide by {first}: the wait restarted"
            )
    return found


def _approved_ahead(case_id: str, state: dict[str, Any]) -> list[str]:
    """I2 for steps a resolve approved in advance: never asked for (pending, or an approval
    requested after it), never decided again (the audit of this run says both)."""
    found = []
    ahead: set[str] = set()
    for entry in state.get("audit", []):
        step, what = str(entry.get("step", "")), entry.get("what")
        if what == "approved" and entry.get("detail") == IN_ADVANCE:
            if step in ahead:
                found.append(f"I2: {case_id} approved {step} in advance twice")
            ahead.add(step)
        elif step in ahead and what == "approval requested":
            found.append(f"I2: {case_id} asked approval of {step}, approved in advance")
        elif step in ahead and what in DECISIONS:
            found.append(f"I2: {case_id} {what} {step} again, approved in advance")
    pending = state.get("pending")
    if isinstance(pending, dict) and pending.get("step") in ahead:
        found.append(
            f"I2: {case_id} waits for approval of {pending.get('step')}, approved in advance"
        )
    return found


def _contacts(world: World) -> list[str]:
    """I1 for private messages: each reaches at most one case, of its brand (the one it
    quotes, when that one was open), is recorded there once, and echoes and receipts reach
    none."""
    found = []
    for (brand, platform, mid), cases in sorted(world.model.dm_cases.items()):
        where = f"{platform} message {mid} to {BRANDS[brand].policy}"
        if len(cases) > 1:
            found.append(f"I1: {where} reached {len(cases)} cases: {sorted(cases)}")
        if (brand, platform, mid) in world.model.ignored:
            found.append(f"I1: {where} (the brand's own, or a receipt) reached {sorted(cases)}")
        found += [
            f"I1: {where} reached {case_id}, not a case of that brand"
            for case_id in cases
            if world.model.cases.get(case_id, brand) != brand
        ]
        quoted = world.model.quoted.get((brand, platform, mid))
        if quoted is not None and cases != {quoted}:
            found.append(f"I1: {where} quoted {quoted}'s reference but reached {sorted(cases)}")
    recorded: Counter[tuple[str, str]] = Counter()
    for case_id, state in world.case_states.items():
        for entry in state.get("audit", []):
            if entry.get("what") == "customer made contact":
                reference = str(entry.get("detail", "")).split(";")[0]
                if " message " in reference:  # a private message has one id; a ticket many
                    recorded[(case_id, reference)] += 1
    found += [
        f"I1: {case_id} recorded the contact {reference!r} {n} times"
        for (case_id, reference), n in sorted(recorded.items())
        if n > 1
    ]
    return found


def _failed_tasks(case_id: str, history: WorkflowHistory) -> list[str]:
    found = []
    for event in history.events:
        if event.HasField("workflow_task_failed_event_attributes"):
            failed = event.workflow_task_failed_event_attributes
            if failed.cause in _ROUTINE:
                continue
            message = failed.failure.message
            label = "I7" if "TMPRL1101" in message or "deadlock" in message.lower() else "I2"
            found.append(
                f"{label}: {case_id} has a failed workflow task "
                f"({WorkflowTaskFailedCause.Name(failed.cause)}): {message[:200]}"
            )
            break  # one is enough: it fails again on every retry
    return found


def _visibility(case_id: str, history: WorkflowHistory) -> list[str]:
    """I5: every keyword value set at start or upserted later, and the starting details."""
    found = []
    for event in history.events:
        fields: Any = None
        if event.HasField("workflow_execution_started_event_attributes"):
            fields = event.workflow_execution_started_event_attributes.search_attributes
        elif event.HasField("upsert_workflow_search_attributes_event_attributes"):
            fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
        if fields is None:
            continue
        for name, payload in fields.indexed_fields.items():
            size = len(payload.data)
            if size > KEYWORD_LIMIT + 2:  # the JSON quotes around a string
                found.append(f"I5: {case_id} sets search attribute {name} to {size} bytes")
    return found


async def _labels(world: World) -> list[str]:
    """I1 for decisions as labels: one label per brand and mention, naming a case of that brand
    (a dismiss racing an approval, or sent twice, is one label)."""
    found = []
    for key, brand in BRANDS.items():
        labels = await world.store.labels(brand.policy)
        counts = Counter((label.platform, label.mention_id) for label in labels)
        found += [
            f"I1: {brand.policy} has {n} labels for {platform} mention {mention}"
            for (platform, mention), n in counts.items()
            if n > 1
        ]
        found += [
            f"I1: {brand.policy} labelled {label.mention_id} for case {label.case_id}, "
            f"not a case of that brand"
            for label in labels
            if label.case_id and world.model.cases.get(label.case_id, key) != key
        ]
        complaint = {label.case_id for label in labels if label.label == 1}
        found += [
            f"I1: {case_id} accepted a dismiss (not a complaint), but the store labels its "
            f"mention a complaint"
            for case_id, update in world.model.done
            if update == "dismiss" and case_id in complaint
        ]
    return found


def _hides(world: World, key: str) -> list[str]:
    """I3 for removals: a post is hidden by as many requests as make it hidden once, one more
    for each fault armed on the hide routes (a call retried after it, inside the removal's
    shared activity or as its own)."""
    brand = BRANDS[key]
    routed = {case_id.split("-", 2)[-1] for case_id in world.model.routed}
    hidden = (
        str(r.get("path", "")).rstrip("/").split("/")[-2 if r["route"] == "x.hide_reply" else -1]
        for r in world.emulators[key].requests
        if r.get("route") in HIDE_ROUTES
    )
    hides = Counter(post for post in hidden if post not in routed)
    allowed = 1 + world.model.hide_faults.get(key, 0)
    return [
        f"I3: {brand.policy} hid post {post} with {n} requests ({allowed - 1} hide faults armed)"
        for post, n in sorted(hides.items())
        if n > allowed
    ]


async def _runs(world: World, case_id: str) -> int:
    """How many runs the workflow id `case_id` has had (at least 1): from visibility where the
    server has it (`WorkflowId = '...'`), else from the runs its starts returned."""
    seen = len(world.model.runs.get(case_id, ()))
    try:
        listed = [r async for r in world.env.client.list_workflows(f"WorkflowId = '{case_id}'")]
    except RPCError:  # the time-skipping test server implements no visibility list
        listed = []
    return max(1, seen, len(listed))


async def _allowed(world: World, text: str) -> int:
    """As many identical actions as the runs of the case whose id `text` names."""
    case_id = next((c for c in world.model.cases if c in text), None)
    return 1 if case_id is None else await _runs(world, case_id)


async def _platform_actions(world: World) -> list[str]:
    """I3: per brand's platform, nothing done twice for one case step of one run. Cases a
    supervisor routed run a playbook again from its start, so their actions are left out."""
    routed = {case_id.split("-", 2)[-1] for case_id in world.model.routed}
    found = []
    for key, emulator in world.emulators.items():
        brand = BRANDS[key]
        replies = Counter(
            (p.in_reply_to, _LEADING_MENTIONS.sub("", p.text))
            for p in emulator.posts.values()
            if p.author_id in (brand.x, brand.page) and p.in_reply_to not in routed
        )
        found += [
            f"I3: {brand.policy} replied {n} times to post {parent}: {text[:60]!r}"
            + (" (first answered 503)" if parent in world.model.unavailable else "")
            for (parent, text), n in replies.items()
            if n > 1
        ]
        dms = Counter(
            (m.get("to") or m.get("comment_id"), m["text"])
            for m in emulator.messages
            if not any(case in m["text"] for case in world.model.routed)
        )
        found += [
            f"I3: {brand.policy} sent {n} identical private messages to {to}"
            for (to, text), n in dms.items()
            if n > 1 and n > await _allowed(world, text)
        ]
        found += _hides(world, key)
        tickets = Counter(str(t.get("external_id", "")) for t in emulator.tickets)
        found += [
            f"I3: {brand.policy} opened {n} tickets for {ref}"
            for ref, n in tickets.items()
            if n > 1 and ref and ref not in world.model.routed and n > await _allowed(world, ref)
        ]
    return found

"""The simulator's resolve that approves the removal in advance reaches what it attacks: hostile
variants are refused and resolve nothing, the valid one takes the case through the removal
without asking, in one shared activity that meets the platform fault armed before it; and the
invariants that watch this report a breach when there is one."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from complaintflow.devkit.emulator import Post
from complaintflow.workflows.together import RUN_STEPS
from tests.simulation import invariants
from tests.simulation.runner import Loop
from tests.simulation.steps import AHEAD_VARIANTS, Step
from tests.simulation.world import World

pytestmark = pytest.mark.heavy

# A Facebook complaint (a comment the brand may hide) of the standard playbook, taken up to
# its wait for the resolution: approved, and the customer's call recorded.
TO_RESOLUTION = [
    Step.of("workers", cached=True),
    Step.of("post_meta", thread=0, followup=False, text=0, bad_time=False, extra=0, brand="a"),
    Step.of("supervise", case=0, update="approve", payload="valid"),
    Step.of("supervise", case=0, update="contact", payload="valid"),
]
HOSTILE = [v for v in AHEAD_VARIANTS if v not in ("valid", "signal", "race_approve", "race_close")]


async def _run(env: WorkflowEnvironment, fault: str) -> tuple[World, list[str], dict[str, Any]]:
    """The history with every hostile resolve, then the valid one with `fault` armed; the
    violations, and the case's state after each hostile resolve must show it unresolved."""
    async with World(env) as world:
        for step in TO_RESOLUTION:
            await world.apply(step)
        (case_id,) = world.model.cases
        for variant in HOSTILE:
            await world.apply(Step.of("resolve_ahead", case=0, variant=variant, fault="none"))
            assert not (await world._state(case_id)).get("resolved"), variant
        await world.apply(Step.of("resolve_ahead", case=0, variant="valid", fault=fault))
        await world.apply(Step.of("sleep", seconds=30))
        found = await invariants.check(world)
        history = await world.env.client.get_workflow_handle(case_id).fetch_history()
        shared = [
            e.activity_task_scheduled_event_attributes.activity_type.name
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        ]
        state = await world._state(case_id)
        state["_activities"] = shared
        return world, found, state


@pytest.mark.parametrize("fault", ["drop", "500"])
def test_a_resolve_approving_the_removal_hides_and_thanks_once_through_a_platform_fault(
    simulation: tuple[Loop, WorkflowEnvironment], fault: str
) -> None:
    loop, env = simulation
    world, found, state = loop.run(_run(env, fault))
    assert found == [], found
    audit = [(e["what"], e.get("step", ""), e.get("detail", "")) for e in state["audit"]]
    assert ("approved", "remove_public_hide", invariants.IN_ADVANCE) in audit
    assert not any(w == "approval requested" and s == "remove_public_hide" for w, s, _ in audit)
    assert state["status"] == "closed"
    assert RUN_STEPS in state["_activities"]  # archive, hide and thanks ran together
    emulator = world.emulators["a"]
    complaint = next(p for p in emulator.posts.values() if p.author_id.startswith("88"))
    assert complaint.hidden
    thanks = [p for p in emulator.posts.values() if p.text.startswith("Glad it is sorted")]
    assert len(thanks) == 1
    # The fault was met: a hide or the thank-you was asked twice (the retry looked first).
    routes = [r["route"] for r in emulator.requests]
    assert routes.count("graph.edit") == 2


def _audit(*entries: tuple[str, str, str]) -> dict[str, Any]:
    return {"audit": [{"what": w, "step": s, "detail": d} for w, s, d in entries]}


def test_the_invariants_report_a_step_approved_in_advance_then_asked_or_decided() -> None:
    ahead = ("approved", "remove_public_hide", invariants.IN_ADVANCE)
    asked = _audit(ahead, ("approval requested", "remove_public_hide", "Sorry"))
    decided = _audit(ahead, ("rejected", "remove_public_hide", "no"))
    waiting = {**_audit(ahead), "pending": {"step": "remove_public_hide"}}
    assert invariants._approved_ahead("c", _audit(ahead)) == []
    assert "asked approval" in invariants._approved_ahead("c", asked)[0]
    assert "rejected remove_public_hide again" in invariants._approved_ahead("c", decided)[0]
    assert "waits for approval" in invariants._approved_ahead("c", waiting)[0]


def test_the_invariants_report_a_post_hidden_twice_without_a_fault(
    simulation: tuple[Loop, WorkflowEnvironment],
) -> None:
    loop, env = simulation

    async def hidden_twice() -> list[str]:
        async with World(env) as world:
            emulator = world.emulators["a"]
            emulator.add_post(Post("2222_9", "facebook", "881", "broken", in_reply_to="2222_1"))
            for _ in range(2):
                emulator.requests.append({"route": "graph.edit", "path": "/graph/2222_9"})
            return invariants._hides(world, "a")

    assert loop.run(hidden_twice()) == [
        "I3: sim-acme hid post 2222_9 with 2 requests (0 hide faults armed)"
    ]

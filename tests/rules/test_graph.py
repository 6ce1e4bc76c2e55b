"""The playbook diagram draws every step kind as itself and refuses one it does not know."""

from __future__ import annotations

import dataclasses

import pytest

from complaintflow import compile_policy
from complaintflow.errors import UnknownStepKind
from complaintflow.rules.graph import GraphFormat, render_graph
from complaintflow.rules.model import CompiledPolicy, StepKind
from tests.support.policies import SMALL_POLICY


def _with_step_kind(policy: CompiledPolicy, kind: str) -> CompiledPolicy:
    """`policy` whose standard playbook's second step claims to be of `kind`."""
    standard = policy.playbook("standard")
    steps = list(standard.steps)
    steps[1] = dataclasses.replace(steps[1], kind=kind)  # type: ignore[arg-type]  # on purpose
    playbook = dataclasses.replace(standard, steps=tuple(steps))
    others = tuple(p for p in policy.playbooks if p.name != "standard")
    return dataclasses.replace(policy, playbooks=(playbook, *others))


@pytest.mark.parametrize("fmt", list(GraphFormat))
def test_a_step_kind_without_a_drawing_is_refused_not_drawn_as_close(fmt: GraphFormat) -> None:
    policy = _with_step_kind(compile_policy(SMALL_POLICY), "teleport")
    step_id = policy.playbook("standard").steps[1].id
    with pytest.raises(UnknownStepKind, match=f"{step_id}.*teleport"):
        render_graph(policy, "standard", fmt)


def test_every_known_step_kind_is_drawn_as_itself() -> None:
    policy = compile_policy(SMALL_POLICY)
    for kind in StepKind:
        drawn = render_graph(_with_step_kind(policy, kind), "standard", GraphFormat.MERMAID)
        line = next(x for x in drawn.splitlines() if x.startswith("  s1["))
        assert ("close:" in line) == (kind is StepKind.CLOSE), (kind, line)

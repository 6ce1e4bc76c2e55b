"""Every step kind a policy can name is compiled and drawn: a kind added to the model without
its schema, compiler or drawing entry fails here, not in front of an author."""

from __future__ import annotations

from complaintflow.rules.compiler import STEP_KINDS
from complaintflow.rules.graph import _DESCRIPTIONS
from complaintflow.rules.model import StepKind
from complaintflow.rules.schema import policy_schema


def test_every_step_kind_has_a_compiler_and_a_drawing() -> None:
    assert set(STEP_KINDS) == set(StepKind)
    assert set(_DESCRIPTIONS) == set(StepKind)


def test_the_schema_accepts_exactly_the_step_kinds_the_compiler_knows() -> None:
    step = policy_schema()["properties"]["playbooks"]["additionalProperties"]["properties"]
    written = set(step["steps"]["items"]["properties"]) - {"id"}
    assert written == {kind.value for kind in STEP_KINDS}

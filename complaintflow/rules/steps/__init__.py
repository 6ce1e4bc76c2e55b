"""Step kinds, one unit each: `STEP_SPECS[kind]` holds a kind's options, compile function,
drawing, description, activity and schema block (see `StepSpec`).

Adding a kind: its value in `StepKind` (rules/model.py), a module here with its `SPEC` and a
line in `STEP_SPECS`, its runner in `RUNNERS` (workflows/case/steps.py), then regenerate the
schema (`python scripts/generate_schema.py`). A kind that calls a new activity also needs the
adapter method registered under that name. tests/rules/test_step_kinds.py fails until all are
there.
"""

from __future__ import annotations

from complaintflow.rules.model import StepKind

from . import awaiting, close, escalate, handoff, notify, remove_public, reply, ticket, wait
from .spec import DEFS, Exit, Shorthand, StepCompiler, StepDrawing, StepSpec

STEP_SPECS: dict[StepKind, StepSpec] = {
    spec.kind: spec
    for spec in (
        notify.SPEC,
        reply.SPEC,
        handoff.SPEC,
        ticket.SPEC,
        awaiting.SPEC,
        wait.SPEC,
        escalate.SPEC,
        remove_public.SPEC,
        close.SPEC,
    )
}

__all__ = ["DEFS", "STEP_SPECS", "Exit", "Shorthand", "StepCompiler", "StepDrawing", "StepSpec"]

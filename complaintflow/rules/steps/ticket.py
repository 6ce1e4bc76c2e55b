"""`ticket`: open a ticket in the helpdesk (Zendesk or a webhook)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, TypedDict

from complaintflow.rules.model import Step, StepKind

from .spec import StepSpec, ref

if TYPE_CHECKING:
    from complaintflow.rules.compiler.steps import Site

OPEN_TICKET = "complaintflow.open_ticket"


class _Required(TypedDict):
    system: str


class TicketOptions(_Required, total=False):
    priority: str


def compile_ticket(site: Site, step: Step, options: TicketOptions) -> Step:
    return dataclasses.replace(step, system=options["system"], priority=options.get("priority"))


SPEC = StepSpec(
    kind=StepKind.TICKET,
    description="Open a ticket in the helpdesk.",
    options=TicketOptions,
    fields={"system": {"enum": ["zendesk", "webhook"]}, "priority": ref("priority")},
    compile=compile_ticket,
    draw=lambda step: f"ticket in {step.system}",
    activity=OPEN_TICKET,
)

"""`close`: end the case (`close:` alone closes it as done)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, TypedDict

from complaintflow.rules.model import Step, StepKind

from .spec import Exit, Shorthand, StepSpec

if TYPE_CHECKING:
    from complaintflow.rules.compiler.steps import Site


class CloseOptions(TypedDict, total=False):
    reason: str


def compile_close(site: Site, step: Step, options: CloseOptions) -> Step:
    if step.when is None:
        site.book.closed_at = site.index
    return dataclasses.replace(step, reason=options.get("reason") or "done")


SPEC = StepSpec(
    kind=StepKind.CLOSE,
    description="End the case.",
    options=CloseOptions,
    fields={"reason": {"type": "string"}},
    compile=compile_close,
    draw=lambda step: f"close: {step.reason}",
    shorthand=Shorthand({"type": "null"}),
    exits=lambda step: (Exit("", ends_case=True),),
    final=True,
)

"""`wait`: pause the case for a duration (`wait: 2h` is the short form)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, TypedDict

from complaintflow.rules.durations import format_duration
from complaintflow.rules.model import Step, StepKind

from .spec import Shorthand, StepSpec, ref

if TYPE_CHECKING:
    from complaintflow.rules.compiler.steps import Site


class WaitOptions(TypedDict):
    duration: str


def compile_wait(site: Site, step: Step, options: WaitOptions) -> Step:
    where = (*site.path, "duration") if isinstance(site.written, dict) else site.path
    return dataclasses.replace(step, duration_seconds=site.c.duration(where, options["duration"]))


SPEC = StepSpec(
    kind=StepKind.WAIT,
    description="Pause for a duration.",
    options=WaitOptions,
    fields={"duration": ref("duration")},
    compile=compile_wait,
    draw=lambda step: f"wait {format_duration(step.duration_seconds or 0)}",
    shorthand=Shorthand(ref("duration"), "duration"),
)

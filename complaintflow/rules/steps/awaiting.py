"""`await`: wait for the case to be resolved, for the customer's contact, for a named signal,
or for a supervisor to route the case (`await: resolution` is the short form)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, TypedDict

from complaintflow.rules.durations import format_duration
from complaintflow.rules.model import Step, StepKind

from .spec import Exit, Shorthand, StepSpec, ref

if TYPE_CHECKING:
    from complaintflow.rules.compiler.steps import Site


class _Required(TypedDict):
    event: str


class AwaitOptions(_Required, total=False):
    signal: str
    timeout: str
    on_timeout: str


def compile_await(site: Site, step: Step, options: AwaitOptions) -> Step:
    event = options["event"]
    if event == "signal" and not options.get("signal"):
        site.c.error(
            site.path, "`await: {event: signal}` needs the signal's name", "add `signal: NAME`"
        )
    site.book.resolved_awaited = site.book.resolved_awaited or event == "resolution"
    timeout = options.get("timeout")
    return dataclasses.replace(
        step,
        event=event,
        signal=options.get("signal"),
        timeout_seconds=site.c.duration((*site.path, "timeout"), timeout)
        if timeout is not None
        else None,
        on_timeout=options.get("on_timeout", "continue") if timeout is not None else None,
    )


def draw_await(step: Step) -> str:
    what = step.signal if step.event == "signal" else step.event
    if step.event == "route":
        what = "a supervisor's route<br/>(goes on in the playbook chosen)"
    limit = f" (up to {format_duration(step.timeout_seconds)})" if step.timeout_seconds else ""
    return f"await {what}{limit}"


SPEC = StepSpec(
    kind=StepKind.AWAIT,
    description="Wait for the case to be resolved, for the customer to make contact, for a "
    "named signal, or for a supervisor to route the case to a playbook (route).",
    options=AwaitOptions,
    fields={
        "event": {"enum": ["resolution", "contact", "signal", "route"]},
        "signal": {"type": "string", "minLength": 1},
        "timeout": ref("duration"),
        "on_timeout": {"enum": ["close", "escalate", "continue"]},
    },
    compile=compile_await,
    draw=draw_await,
    shorthand=Shorthand({"enum": ["resolution", "contact", "route"]}, "event"),
    exits=lambda step: (Exit("timeout", ends_case=True),) if step.on_timeout == "close" else (),
)

"""`notify`: alert the team (a Slack channel or a webhook), optionally with a template's text."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, TypedDict

from complaintflow.rules.model import Step, StepKind

from .spec import StepSpec, ref

if TYPE_CHECKING:
    from complaintflow.rules.compiler.steps import Site

NOTIFY = "complaintflow.notify"


class _Required(TypedDict):
    via: str
    target: str


class NotifyOptions(_Required, total=False):
    template: str


class AlertOptions(TypedDict, total=False):
    """An alert's options as `notify` and `escalate` read them (all optional here)."""

    via: str
    target: str
    template: str
    priority: str


def compile_alert(site: Site, step: Step, options: AlertOptions) -> Step:
    """`notify` and `escalate`: who is told, with which text, at which priority."""
    site.template(options.get("template"), None)
    return dataclasses.replace(
        step,
        via=options.get("via"),
        target=options.get("target"),
        template=options.get("template"),
        priority=options.get("priority"),
    )


SPEC = StepSpec(
    kind=StepKind.NOTIFY,
    description="Alert the team (a Slack channel or a webhook).",
    options=NotifyOptions,
    fields={
        "via": ref("alert_via"),
        "target": {"type": "string", "minLength": 1},
        "template": ref("template"),
    },
    compile=compile_alert,
    draw=lambda step: (
        f"notify {step.via} {step.target}" + (f": {step.template}" if step.template else "")
    ),
    activity=NOTIFY,
)

"""`escalate`: alert and raise the case's priority (`escalate:` alone takes the defaults)."""

from __future__ import annotations

from complaintflow.rules.model import StepKind

from .notify import NOTIFY, AlertOptions, compile_alert
from .spec import Shorthand, StepSpec, ref

SPEC = StepSpec(
    kind=StepKind.ESCALATE,
    description="Alert and raise the case's priority.",
    options=AlertOptions,
    fields={
        "via": ref("alert_via"),
        "target": {"type": "string"},
        "priority": ref("priority"),
        "template": ref("template"),
    },
    compile=compile_alert,
    draw=lambda step: f"escalate to {step.priority or 'high'}",
    activity=NOTIFY,
    shorthand=Shorthand({"type": "null"}),
)

"""`reply`: answer publicly on the same channel, in the complaint's thread."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, TypedDict

from complaintflow.rules.model import Step, StepKind
from complaintflow.rules.templates import REPLY_LIMITS

from .spec import StepSpec, ref

if TYPE_CHECKING:
    from complaintflow.rules.compiler.steps import Site

POST_REPLY = "complaintflow.post_reply"


class ReplyOptions(TypedDict):
    template: str


def compile_reply(site: Site, step: Step, options: ReplyOptions) -> Step:
    site.customer_text(options["template"], REPLY_LIMITS)
    return dataclasses.replace(step, template=options["template"])


SPEC = StepSpec(
    kind=StepKind.REPLY,
    description="Answer publicly on the same channel, in the complaint's thread.",
    options=ReplyOptions,
    fields={"template": ref("template")},
    compile=compile_reply,
    draw=lambda step: f"reply on the same channel: {step.template}",
    activity=POST_REPLY,
    approval=True,
)

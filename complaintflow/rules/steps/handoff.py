"""`handoff`: move the conversation offline with a private message offering email or phone,
then (optionally) wait for the customer to get in touch."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, TypedDict

from complaintflow.rules.durations import format_duration
from complaintflow.rules.model import Step, StepKind
from complaintflow.rules.templates import MESSAGE_LIMITS

from .spec import Exit, StepSpec, ref

if TYPE_CHECKING:
    from complaintflow.rules.compiler.steps import Site

SEND_PRIVATE_MESSAGE = "complaintflow.send_private_message"


class _Required(TypedDict):
    template: str


class HandoffOptions(_Required, total=False):
    via: str
    offer: list[str]
    await_contact: str
    on_no_contact: str


def compile_handoff(site: Site, step: Step, options: HandoffOptions) -> Step:
    site.customer_text(options["template"], MESSAGE_LIMITS)
    path, brand = site.path, site.book.brand
    offer = tuple(options.get("offer", ["email", "phone"]))
    for item in offer:
        if not getattr(brand, item):
            site.c.error(
                (*path, "offer"),
                f"the handoff offers {item} but brand.contact has no {item}",
                f"add `{item}:` under brand.contact",
            )
    wait = options.get("await_contact")
    return dataclasses.replace(
        step,
        via=options.get("via", "private_message"),
        template=options["template"],
        offer=offer,
        await_contact_seconds=site.c.duration((*path, "await_contact"), wait)
        if wait is not None
        else None,
        on_no_contact=options.get("on_no_contact", "close"),
    )


def _exits(step: Step) -> tuple[Exit, ...]:
    """Nobody got in touch in time: the case closes, or goes on saying so."""
    if not step.await_contact_seconds:
        return ()
    limit = format_duration(step.await_contact_seconds)
    if step.on_no_contact == "close":
        return (Exit(f"no contact in {limit}", ends_case=True),)
    return (Exit(f"no contact in {limit}: {step.on_no_contact}", ends_case=False),)


SPEC = StepSpec(
    kind=StepKind.HANDOFF,
    description="Move the conversation offline: a private message offering email/phone, "
    "then wait for the customer to get in touch.",
    options=HandoffOptions,
    fields={
        "via": {"enum": ["private_message"]},
        "template": ref("template"),
        "offer": {
            "type": "array",
            "items": {"enum": ["email", "phone"]},
            "minItems": 1,
            "uniqueItems": True,
        },
        "await_contact": ref("duration"),
        "on_no_contact": {"enum": ["close", "continue", "escalate"]},
    },
    compile=compile_handoff,
    draw=lambda step: f"private message: {step.template}<br/>offer {' / '.join(step.offer)}",
    activity=SEND_PRIVATE_MESSAGE,
    approval=True,
    exits=_exits,
)

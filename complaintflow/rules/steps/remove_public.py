"""`remove_public`: archive the public complaint, then hide or delete it; only on the brand's
own channels, only after the case is resolved, only with a supervisor's approval."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, TypedDict

from complaintflow.rules.model import Step, StepKind
from complaintflow.rules.platform_spec import SPECS

from .spec import StepSpec

if TYPE_CHECKING:
    from complaintflow.rules.compiler.steps import Site

ARCHIVE_POST = "complaintflow.archive_post"
REMOVE_POST = "complaintflow.remove_post"


class _Required(TypedDict):
    action: str


class RemovePublicOptions(_Required, total=False):
    channels: list[str]


def compile_remove_public(site: Site, step: Step, options: RemovePublicOptions) -> Step:
    c, path, action = site.c, site.path, options["action"]
    if step.approval is None:
        c.error(
            path,
            "removing a public post needs a supervisor's approval",
            "add `approval: {}` (or with timeout/on_timeout)",
        )
    elif step.approval.on_timeout == "approve":
        c.error(
            (*path, "approval", "on_timeout"),
            "a removal cannot approve itself when nobody decides",
            "use on_timeout: skip, escalate or close",
        )
    if not site.book.resolved_awaited and not (step.when and "case.resolved" in step.when):
        c.error(
            path,
            "remove_public runs only after the case is resolved",
            "put `- await: resolution` before it",
        )
    channels = options.get("channels")
    if channels is None:
        chosen = _removal_channels(site, action)
    else:
        _check_channels(site, action, channels)
        chosen = tuple(channels)
    return dataclasses.replace(step, action=action, channels=chosen)


def _removal_channels(site: Site, action: str) -> tuple[str, ...]:
    """Every owned channel where the brand may `action` a post (none listed in the step)."""
    owned = site.book.owned
    chosen = tuple(c for c in owned if action in SPECS[c].removals)
    if "x" in owned and action == "delete":
        site.c.error(
            (*site.path, "action"),
            "X does not let a brand delete a customer's post",
            "use action: hide, or list `channels: [facebook, instagram]`",
        )
    if not chosen:
        site.c.error(
            site.path,
            f"the brand owns no channel where it can {action} a post",
            "add a facebook or instagram account under brand.accounts",
        )
    return chosen


def _check_channels(site: Site, action: str, channels: list[str]) -> None:
    """The channels a step lists are owned and let the brand `action` a post."""
    for index, channel in enumerate(channels):
        where = (*site.path, "channels", index)
        if channel not in site.book.owned:
            site.c.error(
                where,
                f"the brand has no {channel} account, so it cannot remove posts there",
                f"add it under brand.accounts or remove {channel!r}",
            )
        elif action not in SPECS[channel].removals:
            can = sorted(SPECS[channel].removals)
            site.c.error(
                where,
                f"{channel} does not let a brand {action} a customer's post",
                f"use action: {can[0]}" if can else f"remove {channel!r}",
            )


def _draw(step: Step) -> str:
    return f"archive, then {step.action} the public post<br/>on {', '.join(step.channels)}"


# The removals and channels an author may name: from the platform table, their one home.
_ACTIONS = sorted(set().union(*(spec.removals for spec in SPECS.values())), reverse=True)

SPEC = StepSpec(
    kind=StepKind.REMOVE_PUBLIC,
    description="Archive the public complaint, then hide or delete it; only on the brand's "
    "own channels, only after resolution, only with approval.",
    options=RemovePublicOptions,
    fields={
        "action": {"enum": _ACTIONS},
        "channels": {
            "type": "array",
            "items": {"enum": list(SPECS)},
            "minItems": 1,
            "uniqueItems": True,
        },
    },
    compile=compile_remove_public,
    draw=_draw,
    activity=REMOVE_POST,
    approval=True,
)

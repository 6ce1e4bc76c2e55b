"""The compiler's playbook pass: each step's common fields (id, condition, approval), then
one function per step kind, found in `STEP_KINDS` (a new kind is one entry there)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from complaintflow.rules.expressions import ExpressionEnv
from complaintflow.rules.model import Approval, Brand, Escalation, Playbook, Step, StepKind
from complaintflow.rules.source import NodePath
from complaintflow.rules.templates import MESSAGE_LIMITS, REPLY_LIMITS, Template

from .context import Context
from .limits import DEFAULT_APPROVAL_TIMEOUT, DEFAULT_ON_TIMEOUT, MAX_NAME_CHARS, REMOVABLE
from .texts import template_ref


@dataclasses.dataclass
class Book:
    """A playbook being compiled: what its steps may use, and what the steps so far did."""

    c: Context
    name: str
    brand: Brand
    templates: dict[str, Template]
    owned: list[str]  # the platforms the brand has accounts on
    resolved_awaited: bool = False  # an `await: resolution` came before
    closed_at: int | None = None  # an unconditional `close` came before (until reported)


@dataclasses.dataclass(frozen=True)
class Site:
    """One step of a playbook: where its kind is written, and its options as written."""

    book: Book
    path: NodePath  # (playbooks, NAME, steps, INDEX, KIND)
    index: int
    written: Any  # before the shorthands (`wait: 2h`) expand

    @property
    def c(self) -> Context:
        return self.book.c

    def customer_text(self, name: str, limits: dict[str, int] | None) -> None:
        """The step sends template `name` to the customer, within `limits` per channel."""
        self.c.customer_templates.append((self.book.name, name, (*self.path, "template")))
        self.template(name, limits)

    def template(self, name: str | None, limits: dict[str, int] | None) -> None:
        book = self.book
        template_ref(self.c, (*self.path, "template"), name, book.templates, limits, book.owned)


# What compiling one step kind does: check its options and fill in its fields.
StepCompiler = Callable[[Site, Step, dict[str, Any]], Step]


def _reply(site: Site, step: Step, options: dict[str, Any]) -> Step:
    site.customer_text(options["template"], REPLY_LIMITS)
    return dataclasses.replace(step, template=options["template"])


def _handoff(site: Site, step: Step, options: dict[str, Any]) -> Step:
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


def _notify(site: Site, step: Step, options: dict[str, Any]) -> Step:
    site.template(options.get("template"), None)
    return dataclasses.replace(
        step,
        via=options.get("via"),
        target=options.get("target"),
        template=options.get("template"),
        priority=options.get("priority"),
    )


def _ticket(site: Site, step: Step, options: dict[str, Any]) -> Step:
    return dataclasses.replace(step, system=options["system"], priority=options.get("priority"))


def _await(site: Site, step: Step, options: dict[str, Any]) -> Step:
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


def _wait(site: Site, step: Step, options: dict[str, Any]) -> Step:
    where = (*site.path, "duration") if isinstance(site.written, dict) else site.path
    return dataclasses.replace(step, duration_seconds=site.c.duration(where, options["duration"]))


def _remove_public(site: Site, step: Step, options: dict[str, Any]) -> Step:
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
    chosen = tuple(c for c in owned if action in REMOVABLE[c])
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
        elif action not in REMOVABLE[channel]:
            can = sorted(REMOVABLE[channel])
            site.c.error(
                where,
                f"{channel} does not let a brand {action} a customer's post",
                f"use action: {can[0]}" if can else f"remove {channel!r}",
            )


def _close(site: Site, step: Step, options: dict[str, Any]) -> Step:
    if step.when is None:
        site.book.closed_at = site.index
    return dataclasses.replace(step, reason=options.get("reason") or "done")


# One entry per step kind: how the compiler checks it and fills in its fields.
STEP_KINDS: dict[StepKind, StepCompiler] = {
    StepKind.NOTIFY: _notify,
    StepKind.REPLY: _reply,
    StepKind.HANDOFF: _handoff,
    StepKind.TICKET: _ticket,
    StepKind.AWAIT: _await,
    StepKind.WAIT: _wait,
    StepKind.ESCALATE: _notify,
    StepKind.REMOVE_PUBLIC: _remove_public,
    StepKind.CLOSE: _close,
}


def playbook(
    c: Context,
    name: str,
    body: dict[str, Any],
    brand: Brand,
    templates: dict[str, Template],
    env: ExpressionEnv,
) -> Playbook:
    """Compile one playbook: its steps in order, its escalations and its answer deadline."""
    base: NodePath = ("playbooks", name)
    book = Book(c, name, brand, templates, [a.platform.value for a in brand.accounts])
    steps: list[Step] = []
    ids: set[str] = set()
    for index, raw in enumerate(body["steps"]):
        step = _step(book, index, raw, ids, env)
        if step is not None:
            steps.append(step)
    escalations = tuple(
        Escalation(
            c.duration((*base, "escalations", i, "after"), e["after"]),
            e["via"],
            e["target"],
            e.get("priority"),
        )
        for i, e in enumerate(body.get("escalations", []))
    )
    return Playbook(
        name=name,
        priority=body.get("priority", "normal"),
        respond_within_seconds=c.duration((*base, "respond_within"), body["respond_within"]),
        steps=tuple(steps),
        escalations=escalations,
        description=body.get("description", ""),
    )


def _step(
    book: Book, index: int, raw: dict[str, Any], ids: set[str], env: ExpressionEnv
) -> Step | None:
    """The fields every step has, then its kind's own; None when it has no single kind."""
    c = book.c
    path: NodePath = ("playbooks", book.name, "steps", index)
    kinds = [k for k in raw if k != "id"]
    if len(kinds) != 1:
        found = f"found {', '.join(kinds)}" if kinds else "found none"
        c.error(
            path,
            f"a step has exactly one kind, {found}",
            "split it into one list item per step"
            if kinds
            else "add one, e.g. `reply: {template: NAME}`",
        )
        return None
    kind = StepKind(kinds[0])
    site = Site(book, (*path, kinds[0]), index, raw[kinds[0]])
    if book.closed_at is not None:
        c.error(
            path,
            "this step comes after an unconditional `close` and never runs",
            "move it before the close, or give the close a `when:`",
        )
        book.closed_at = None  # report once
    options = _normalise_options(kind, site.written)
    step_id = _step_id(book, path, raw, kind, options, ids)
    when = options.get("when")
    if when is not None:
        program = c.condition(env, (*site.path, "when"), when)
        if program is not None:
            c.step_programs[(book.name, step_id)] = program
    approval = _approval(c, (*site.path, "approval"), options.get("approval"))
    step = Step(id=step_id, kind=kind, when=when, approval=approval)
    return STEP_KINDS[kind](site, step, options)


def _step_id(
    book: Book,
    path: NodePath,
    raw: dict[str, Any],
    kind: StepKind,
    options: dict[str, Any],
    ids: set[str],
) -> str:
    """The step's id: as written, or made from its kind and options, unique in the playbook."""
    step_id: str = raw.get("id") or _default_id(kind, options)
    if step_id in ids:
        step_id = _unique(step_id, ids) if "id" not in raw else step_id
        if step_id in ids:
            book.c.error(
                (*path, "id"),
                f"step id {step_id!r} is used twice in playbook {book.name!r}",
                "give each step its own id",
            )
    ids.add(step_id)
    if len(step_id) > MAX_NAME_CHARS:
        book.c.error(
            (*path, "id"),
            f"the step id is {len(step_id)} characters; at most {MAX_NAME_CHARS}",
            "use a shorter id",
        )
    return step_id


def _approval(c: Context, path: NodePath, body: dict[str, Any] | None) -> Approval | None:
    """A supervisor's approval before the step, with the policy's defaults filled in."""
    if body is None:
        return None
    defaults = c.data.get("approvals", {})
    timeout = body.get("timeout")
    where = (*path, "timeout") if timeout is not None else ("approvals", "timeout")
    seconds = c.duration(where, timeout or defaults.get("timeout"), DEFAULT_APPROVAL_TIMEOUT)
    on_timeout = body.get("on_timeout") or defaults.get("on_timeout") or DEFAULT_ON_TIMEOUT
    return Approval(seconds, on_timeout, tuple(body.get("approvers", ())))


def _normalise_options(kind: StepKind, options: Any) -> dict[str, Any]:
    """Expand the scalar shorthands (`await: resolution`, `wait: 2h`, `close:`) to mappings."""
    if options is None:
        return {}
    if kind is StepKind.AWAIT and isinstance(options, str):
        return {"event": options}
    if kind is StepKind.WAIT and isinstance(options, str):
        return {"duration": options}
    result: dict[str, Any] = options
    return result


def _default_id(kind: StepKind, options: dict[str, Any]) -> str:
    for field in ("template", "event", "action"):
        if options.get(field):
            return f"{kind.value}_{options[field]}"
    return kind.value


def _unique(step_id: str, taken: set[str]) -> str:
    n = 2
    while f"{step_id}_{n}" in taken:
        n += 1
    return f"{step_id}_{n}"

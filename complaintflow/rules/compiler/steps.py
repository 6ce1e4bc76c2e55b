"""The compiler's playbook pass: each step's common fields (id, condition, approval), then
its kind's own compile function, from the kind's spec (complaintflow/rules/steps/)."""

from __future__ import annotations

import dataclasses
from typing import Any

from complaintflow.rules.expressions import ExpressionEnv
from complaintflow.rules.model import Approval, Brand, Escalation, Playbook, Step, StepKind
from complaintflow.rules.source import NodePath
from complaintflow.rules.steps import STEP_SPECS, StepCompiler
from complaintflow.rules.templates import Template

from .context import Context
from .limits import DEFAULT_APPROVAL_TIMEOUT, DEFAULT_ON_TIMEOUT, MAX_NAME_CHARS
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


# How the compiler checks each step kind and fills in its fields: from the kind's spec.
STEP_KINDS: dict[StepKind, StepCompiler] = {kind: spec.compile for kind, spec in STEP_SPECS.items()}


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
    spec = STEP_SPECS[kind]
    options = spec.expand(site.written)
    step_id = _step_id(book, path, raw, kind, options, ids)
    when = options.get("when")
    if when is not None:
        program = c.condition(env, (*site.path, "when"), when)
        if program is not None:
            c.step_programs[(book.name, step_id)] = program
    approval = _approval(c, (*site.path, "approval"), options.get("approval"))
    step = Step(id=step_id, kind=kind, when=when, approval=approval)
    return spec.compile(site, step, options)


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

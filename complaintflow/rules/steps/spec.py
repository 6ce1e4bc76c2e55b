"""What a step kind is, in one place: its options, how it compiles, how it is drawn and told,
which activity carries it out, and the schema block an author's editor reads.

The schema pieces several kinds share (`when`, `approval`, durations, priorities) are written
once here as `DEFS`; each kind's block refers to them by `$ref`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from complaintflow.rules.model import Step, StepKind

if TYPE_CHECKING:  # the compiler imports this package: name its types without a cycle
    from complaintflow.rules.compiler.steps import Site

Fragment = dict[str, Any]
# What compiling one step kind does: check its options (as written, shorthands expanded,
# typed by the kind's TypedDict) and fill in its fields of the step.
StepCompiler = Callable[["Site", Step, Any], Step]
# How a compiled step is drawn in `complaintflow graph` (one line; `<br/>` breaks it).
StepDrawing = Callable[[Step], str]


@dataclasses.dataclass(frozen=True)
class Exit:
    """A way out of a step other than on to the next one, as `graph` draws it."""

    label: str
    ends_case: bool  # straight to the case's end; else on to the next step, labelled


# The exits a compiled step has (no contact, a timeout that closes, a close).
StepExits = Callable[[Step], tuple[Exit, ...]]


def no_exits(step: Step) -> tuple[Exit, ...]:
    return ()


def ref(name: str) -> Fragment:
    """A schema fragment pointing at the shared definition `name`."""
    if name not in DEFS:
        raise KeyError(f"no shared schema definition {name!r}")
    return {"$ref": f"#/$defs/{name}"}


ON_APPROVAL_TIMEOUT = ("escalate", "skip", "approve", "close")
PRIORITIES = ("low", "normal", "high", "urgent")
ALERT_CHANNELS = ("slack", "webhook")

# The schema definitions step kinds share, by name (the generated schema's `$defs`).
DEFS: dict[str, Fragment] = {
    "condition": {
        "type": "string",
        "description": "A CEL condition; the step runs only when it holds.",
    },
    "duration": {"type": "string", "description": "A duration such as 30m, 2h, 1h30m or 7d."},
    "priority": {"enum": list(PRIORITIES)},
    "alert_via": {"enum": list(ALERT_CHANNELS)},
    "template": {"type": "string", "description": "The name of a text under templates:."},
    "approval": {
        "type": "object",
        "additionalProperties": False,
        "description": "A supervisor must approve this step before it runs.",
        "properties": {
            "timeout": {
                "type": "string",
                "description": "How long to wait for a decision "
                "(default: the policy's approvals.timeout).",
            },
            "on_timeout": {
                "enum": list(ON_APPROVAL_TIMEOUT),
                "description": "What happens when nobody decides in time.",
            },
            "approvers": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "description": "Who may approve (names as given in the approval); empty = anyone.",
            },
        },
    },
}


@dataclasses.dataclass(frozen=True)
class Shorthand:
    """A step written as a scalar instead of a mapping (`await: resolution`, `close:`).

    `schema` is what the scalar may be; `option` is the option it stands for (None: the
    scalar is null and the step takes its defaults).
    """

    schema: Fragment
    option: str | None = None


@dataclasses.dataclass(frozen=True)
class StepSpec:
    """One step kind, whole: a new kind is one of these plus its runner in the workflow.

    `options` is the TypedDict of the kind's own options (its required keys are the schema's
    `required`); `fields` is the schema of each of them, in the order an editor offers them.
    Every kind also takes `when:`; kinds with `approval` take `approval:`.
    """

    kind: StepKind
    description: str  # what the step does, for authors (schema, explain)
    options: type[Any]  # a TypedDict class
    fields: Mapping[str, Fragment]
    compile: StepCompiler
    draw: StepDrawing
    activity: str | None = None  # the activity that carries it out; None: the workflow does
    approval: bool = False  # a supervisor may have to approve it first
    shorthand: Shorthand | None = None
    exits: StepExits = no_exits
    final: bool = False  # no step runs on from this one (only the skips around it)

    def schema(self) -> Fragment:
        """The kind's block under a step's properties in the policy schema."""
        declared = set(self.options.__required_keys__) | set(self.options.__optional_keys__)
        if declared != set(self.fields):
            raise ValueError(
                f"step kind {self.kind.value}: options {sorted(declared)} but schema fields "
                f"{sorted(self.fields)}"
            )
        properties: Fragment = dict(self.fields)
        if self.approval:
            properties["approval"] = ref("approval")
        properties["when"] = ref("condition")
        block: Fragment = {"type": "object", "additionalProperties": False}
        block["properties"] = properties
        required = [name for name in self.fields if name in self.options.__required_keys__]
        if required:
            block["required"] = required
        if self.shorthand is None:
            return {**block, "description": self.description}
        return {"description": self.description, "anyOf": [self.shorthand.schema, block]}

    def expand(self, written: Any) -> dict[str, Any]:
        """The options as a mapping, the scalar shorthand (`wait: 2h`) expanded."""
        if written is None:
            return {}
        if not isinstance(written, dict):
            if self.shorthand is None or self.shorthand.option is None:
                raise TypeError(f"a {self.kind.value} step is a mapping, got {written!r}")
            return {self.shorthand.option: written}
        return written

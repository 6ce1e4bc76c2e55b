"""Checks a loaded policy against the shipped JSON Schema and words each failure for its author.

Every jsonschema error becomes a Diagnostic at the offending key or value, with the nearest
valid name suggested for a typo. The step kinds' blocks of the shipped file and its `$defs` are
generated from the kinds' specs, the brand's accounts block from the platforms' facts
(`generated_schema`); the rest of the file is written by hand.
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
from collections.abc import Callable, Iterable
from importlib import resources
from typing import Any, NamedTuple

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from complaintflow.errors import Diagnostic
from complaintflow.platforms.facts import SPECS, PlatformSpec
from complaintflow.rules.source import Document, NodePath

SCHEMA_FILE = "policy.schema.json"


def schema_text() -> str:
    """The policy JSON Schema file shipped in the package, as its text."""
    return resources.files("complaintflow.rules").joinpath(SCHEMA_FILE).read_text("utf-8")


@functools.cache
def policy_schema() -> dict[str, Any]:
    """The policy JSON Schema (draft 2020-12) shipped in the package."""
    schema: dict[str, Any] = json.loads(schema_text())
    return schema


def generated_schema(base: dict[str, Any]) -> dict[str, Any]:
    """`base` with a step's per-kind blocks and the `$defs` they share made from the specs,
    and brand.accounts made from the platforms' facts (one block per platform).

    Everything else in `base` is kept as it is: the shipped file is its own base, so
    regenerating it changes only what the step kinds say.
    """
    from complaintflow.rules.steps import DEFS, STEP_SPECS  # the kinds import this module

    schema = copy.deepcopy(base)
    accounts = schema["properties"]["brand"]["properties"]["accounts"]
    accounts["properties"] = {name: _account(spec) for name, spec in SPECS.items()}
    playbook = schema["properties"]["playbooks"]["additionalProperties"]
    step = playbook["properties"]["steps"]["items"]
    kinds = {kind.value: spec.schema() for kind, spec in STEP_SPECS.items()}
    step["properties"] = {**kinds, "id": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}}
    step["maxProperties"] = 2  # one kind and its optional id
    schema["$defs"] = copy.deepcopy(DEFS)
    return schema


def _account(spec: PlatformSpec) -> dict[str, Any]:
    """brand.accounts.<platform>: its id field, and its handle field (required or not)."""
    id_field, handle_field = spec.account_fields
    handle: dict[str, Any] = {"type": "string", "minLength": 1} if spec.handle_required else {}
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            id_field: {"type": "string", "minLength": 1},
            handle_field: handle or {"type": "string"},
        },
        "required": [id_field, handle_field] if spec.handle_required else [id_field],
    }


def render_schema(schema: dict[str, Any]) -> str:
    """The schema as the shipped file writes it."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(policy_schema())


def nearest(word: str, choices: Iterable[str]) -> str | None:
    """The choice closest to `word` (for 'did you mean'), if any is close enough."""
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(word: str, choices: Iterable[str], *, what: str = "") -> str:
    """A hint naming the nearest choice, or listing the valid ones."""
    options = sorted(set(choices))
    close = nearest(word, options)
    if close:
        return f"did you mean {close!r}?"
    if not options:
        return ""
    shown = ", ".join(options[:12]) + (", ..." if len(options) > 12 else "")
    return f"write one of {what + ': ' if what else ''}{shown}"


def validate_document(doc: Document) -> list[Diagnostic]:
    """Schema diagnostics for `doc`, one per failing place."""
    diagnostics: list[Diagnostic] = []
    seen: set[tuple[NodePath, str]] = set()
    errors = [leaf for error in _validator().iter_errors(doc.data) for leaf in _leaves(error)]
    # A misspelt key is reported once, as unknown (with its correction), not also as missing.
    misspelt = {
        (tuple(e.absolute_path), nearest(k, e.schema.get("properties", {})))
        for e in errors
        if e.validator == "additionalProperties"
        and isinstance(e.instance, dict)
        and isinstance(e.schema, dict)
        for k in e.instance
        if k not in e.schema.get("properties", {})
    }
    for leaf in errors:
        if (
            leaf.validator == "required"
            and (tuple(leaf.absolute_path), _missing_key(leaf)) in misspelt
        ):
            continue
        diagnostic = _describe(doc, leaf)
        marker = (tuple(leaf.absolute_path), diagnostic.message)
        if marker not in seen:
            seen.add(marker)
            diagnostics.append(diagnostic)
    return diagnostics


def _missing_key(error: ValidationError) -> str:
    return str(error.message).split("'")[1] if "'" in error.message else "?"


def _leaves(error: ValidationError) -> list[ValidationError]:
    """The most useful errors inside an anyOf/oneOf failure."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        return _leaves(best_match(error.context))
    return [error]


def _where(path: NodePath) -> str:
    names = [str(p) for p in path if isinstance(p, str)]
    return f" in {'.'.join(names)}" if names else ""


class _Said(NamedTuple):
    """How one schema failure is told: where, what is wrong, what to write instead."""

    where: NodePath
    message: str
    hint: str = ""
    key: bool = False  # point at the key rather than its value


# Words one kind of failure; None leaves it to jsonschema's own message.
_Wording = Callable[[ValidationError, NodePath, dict[str, Any], Any], _Said | None]


def _unknown_key(
    error: ValidationError, path: NodePath, schema: dict[str, Any], value: Any
) -> _Said | None:
    if not isinstance(value, dict):
        return None
    allowed = list(schema.get("properties", {}))
    extra = [k for k in value if k not in allowed]
    key = extra[0] if extra else "?"
    if not allowed:
        return _Said((*path, key), f"unexpected key {key!r}{_where(path)}", "remove it", True)
    return _Said(
        (*path, key), f"unknown key {key!r}{_where(path)}", did_you_mean(key, allowed), True
    )


def _required(
    error: ValidationError, path: NodePath, schema: dict[str, Any], value: Any
) -> _Said | None:
    missing = _missing_key(error)
    return _Said(path, f"missing required key {missing!r}{_where(path)}", f"add `{missing}: ...`")


def _enum(
    error: ValidationError, path: NodePath, schema: dict[str, Any], value: Any
) -> _Said | None:
    options = [str(o) for o in schema.get("enum", [])]
    return _Said(
        path, f"{_show(value)} is not allowed{_where(path)}", did_you_mean(str(value), options)
    )


def _type(
    error: ValidationError, path: NodePath, schema: dict[str, Any], value: Any
) -> _Said | None:
    if not path:  # not a policy at all: quote nothing of it (secrets)
        return _Said(
            path,
            f"this is not a policy file: it holds {_kind_of(value)}, not a mapping (key: value)",
            "a policy starts with `policy: NAME`",
        )
    expected = schema.get("type")
    return _Said(
        path,
        f"expected {_type_name(expected)}{_where(path)}, got {_show(value)}",
        _type_hint(expected, value),
    )


def _name(
    error: ValidationError, path: NodePath, schema: dict[str, Any], value: Any
) -> _Said | None:
    return _Said(
        path,
        f"name {_show(value)} is not allowed{_where(path[:-1])}",
        "use lowercase letters, digits and _, starting with a letter",
        True,
    )


def _pattern(
    error: ValidationError, path: NodePath, schema: dict[str, Any], value: Any
) -> _Said | None:
    return _Said(
        path,
        f"{_show(value)} is not a valid name{_where(path)}",
        "use lowercase letters, digits, - and _",
    )


def _range(
    error: ValidationError, path: NodePath, schema: dict[str, Any], value: Any
) -> _Said | None:
    kind = str(error.validator)
    return _Said(
        path,
        f"{_show(value)} is out of range{_where(path)}",
        f"write a number {_BOUNDS[kind]} {schema.get(kind)}",
    )


_BOUNDS = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}


def _empty(
    error: ValidationError, path: NodePath, schema: dict[str, Any], value: Any
) -> _Said | None:
    if error.validator == "minProperties" and "steps" in path:
        return _Said(
            path, f"empty step{_where(path)}", "write one step kind, e.g. `reply: {template: NAME}`"
        )
    return _Said(path, f"empty{_where(path)}", "add at least one entry")


def _many_kinds(
    error: ValidationError, path: NodePath, schema: dict[str, Any], value: Any
) -> _Said | None:
    if not isinstance(value, dict):
        return None
    kinds = [k for k in value if k != "id"]
    return _Said(
        path,
        f"a step has one kind, found {', '.join(kinds)}",
        "split it into one list item per step",
    )


def _repeated(
    error: ValidationError, path: NodePath, schema: dict[str, Any], value: Any
) -> _Said | None:
    return _Said(path, f"repeated entries{_where(path)}", "list each once")


def _empty_text(
    error: ValidationError, path: NodePath, schema: dict[str, Any], value: Any
) -> _Said | None:
    return _Said(path, f"empty text{_where(path)}", "write a value")


_WORDINGS: dict[str, _Wording] = {
    "additionalProperties": _unknown_key,
    "required": _required,
    "enum": _enum,
    "type": _type,
    "propertyNames": _name,
    "pattern": _pattern,
    "minimum": _range,
    "maximum": _range,
    "exclusiveMinimum": _range,
    "exclusiveMaximum": _range,
    "minProperties": _empty,
    "maxProperties": _many_kinds,
    "minItems": _empty,
    "uniqueItems": _repeated,
    "minLength": _empty_text,
}


def _describe(doc: Document, error: ValidationError) -> Diagnostic:
    path: NodePath = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    wording = _WORDINGS.get(str(error.validator))
    said = wording(error, path, schema, error.instance) if wording is not None else None
    if said is None:
        return doc.diagnostic(path, f"{error.message}{_where(path)}")
    return doc.diagnostic(said.where, said.message, said.hint, key=said.key)


def _kind_of(value: Any) -> str:
    return {str: "text", list: "a list", int: "a number", float: "a number"}.get(
        type(value), "something else"
    )


def _show(value: Any) -> str:
    if isinstance(value, str):  # a few characters are enough to find it; more may be a secret
        return repr(value) if len(value) <= 24 else repr(value[:20]) + "..."
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _type_name(expected: Any) -> str:
    names = {
        "object": "a mapping (key: value)",
        "array": "a list",
        "string": "text",
        "number": "a number",
        "integer": "a whole number",
        "boolean": "true or false",
        "null": "nothing",
    }
    if isinstance(expected, list):
        return " or ".join(names.get(str(e), str(e)) for e in expected)
    return names.get(str(expected), str(expected))


def _type_hint(expected: Any, value: Any) -> str:
    if expected == "string" and isinstance(value, bool):
        return "YAML reads yes/no/on/off as booleans: quote the value"
    if expected == "string" and isinstance(value, (int, float)):
        return f'quote it: "{value}"'
    if expected in ("number", "integer") and isinstance(value, str):
        return "write the number without quotes"
    if expected == "object" and value is None:
        return "write `{}` or the step's options"
    return ""

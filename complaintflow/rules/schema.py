"""Checks a loaded policy against the shipped JSON Schema and words each failure for its author.

Every jsonschema error becomes a Diagnostic at the offending key or value, with the nearest
valid name suggested for a typo.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterable
from importlib import resources
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from complaintflow.errors import Diagnostic
from complaintflow.rules.source import Document, NodePath

SCHEMA_FILE = "policy.schema.json"


@functools.cache
def policy_schema() -> dict[str, Any]:
    """The policy JSON Schema (draft 2020-12) shipped in the package."""
    text = resources.files("complaintflow.rules").joinpath(SCHEMA_FILE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


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


def _describe(doc: Document, error: ValidationError) -> Diagnostic:
    path: NodePath = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    kind = error.validator
    value = error.instance
    if kind == "additionalProperties" and isinstance(value, dict):
        allowed = list(schema.get("properties", {}))
        extra = [k for k in value if k not in allowed]
        key = extra[0] if extra else "?"
        if not allowed:
            return doc.diagnostic(
                (*path, key), f"unexpected key {key!r}{_where(path)}", "remove it", key=True
            )
        return doc.diagnostic(
            (*path, key), f"unknown key {key!r}{_where(path)}", did_you_mean(key, allowed), key=True
        )
    if kind == "required":
        missing = _missing_key(error)
        return doc.diagnostic(
            path, f"missing required key {missing!r}{_where(path)}", f"add `{missing}: ...`"
        )
    if kind == "enum":
        options = [str(o) for o in schema.get("enum", [])]
        return doc.diagnostic(
            path, f"{_show(value)} is not allowed{_where(path)}", did_you_mean(str(value), options)
        )
    if kind == "type" and not path:  # not a policy at all: quote nothing of it (secrets)
        return doc.diagnostic(
            path,
            f"this is not a policy file: it holds {_kind_of(value)}, not a mapping (key: value)",
            "a policy starts with `policy: NAME`",
        )
    if kind == "type":
        expected = schema.get("type")
        return doc.diagnostic(
            path,
            f"expected {_type_name(expected)}{_where(path)}, got {_show(value)}",
            _type_hint(expected, value),
        )
    if kind == "propertyNames":
        return doc.diagnostic(
            path,
            f"name {_show(value)} is not allowed{_where(path[:-1])}",
            "use lowercase letters, digits and _, starting with a letter",
            key=True,
        )
    if kind == "pattern":
        return doc.diagnostic(
            path,
            f"{_show(value)} is not a valid name{_where(path)}",
            "use lowercase letters, digits, - and _",
        )
    if kind in ("minimum", "maximum"):
        return doc.diagnostic(
            path,
            f"{_show(value)} is out of range{_where(path)}",
            f"write a number {'>=' if kind == 'minimum' else '<='} {schema.get(kind)}",
        )
    if kind == "minProperties" and "steps" in path:
        return doc.diagnostic(
            path, f"empty step{_where(path)}", "write one step kind, e.g. `reply: {template: NAME}`"
        )
    if kind == "maxProperties" and isinstance(value, dict):
        kinds = [k for k in value if k != "id"]
        return doc.diagnostic(
            path,
            f"a step has one kind, found {', '.join(kinds)}",
            "split it into one list item per step",
        )
    if kind in ("minItems", "minProperties"):
        return doc.diagnostic(path, f"empty{_where(path)}", "add at least one entry")
    if kind == "uniqueItems":
        return doc.diagnostic(path, f"repeated entries{_where(path)}", "list each once")
    if kind == "minLength":
        return doc.diagnostic(path, f"empty text{_where(path)}", "write a value")
    return doc.diagnostic(path, f"{error.message}{_where(path)}")


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

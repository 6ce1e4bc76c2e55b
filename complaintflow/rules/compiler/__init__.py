"""Turns a policy file into a CompiledPolicy, reporting every problem with its location.

Order: YAML -> JSON Schema -> the passes (passes.py): expressions, templates, references,
durations and the platform rules (what can be removed where). All diagnostics are collected,
then raised at once. Every name other modules use is importable from here.
"""

from __future__ import annotations

from pathlib import Path

from complaintflow.errors import PolicyError
from complaintflow.rules.model import CompiledPolicy
from complaintflow.rules.schema import validate_document
from complaintflow.rules.source import Document, load_yaml, parse_yaml

from .limits import ACCOUNT_FIELDS as _ACCOUNT_FIELDS
from .limits import (
    DEFAULT_APPROVAL_TIMEOUT,
    DEFAULT_ON_TIMEOUT,
    MAX_COMPILED_BYTES,
    MAX_CONDITION_CHARS,
    MAX_ITERATIONS,
    MAX_NAME_CHARS,
    MAX_VERSION,
    REMOVABLE,
    UNREAD_ROUTE,
    iteration_bound,
)
from .passes import Compilation, run
from .programs import _PROGRAMS, Programs, classifier_variables, programs_for
from .steps import STEP_KINDS

__all__ = [
    "DEFAULT_APPROVAL_TIMEOUT",
    "DEFAULT_ON_TIMEOUT",
    "MAX_COMPILED_BYTES",
    "MAX_CONDITION_CHARS",
    "MAX_ITERATIONS",
    "MAX_NAME_CHARS",
    "MAX_VERSION",
    "REMOVABLE",
    "STEP_KINDS",
    "UNREAD_ROUTE",
    "_ACCOUNT_FIELDS",
    "_PROGRAMS",
    "Compilation",
    "Programs",
    "check_document",
    "check_file",
    "classifier_variables",
    "compile_policy",
    "iteration_bound",
    "load_policy",
    "policy_json_schema",
    "programs_for",
]


def load_policy(path: str | Path) -> CompiledPolicy:
    """Load, validate and compile the policy file at `path`; raise PolicyError on any error."""
    result = check_file(path)
    if result.policy is None:
        raise PolicyError(result.diagnostics)
    return result.policy


def compile_policy(text: str | bytes, *, name: str = "<policy>") -> CompiledPolicy:
    """Compile policy YAML given as text; raise PolicyError on any error."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    result = check_document(parse_yaml(raw, name))
    if result.policy is None:
        raise PolicyError(result.diagnostics)
    return result.policy


def check_file(path: str | Path) -> Compilation:
    """Compile the file at `path`, returning the result and all diagnostics (never raises)."""
    try:
        document = load_yaml(path)
    except PolicyError as exc:
        return Compilation(None, None, exc.diagnostics)
    return check_document(document)


def check_document(document: Document) -> Compilation:
    """Compile a loaded document, returning the result and all diagnostics (never raises)."""
    schema_errors = validate_document(document)
    if schema_errors:
        return Compilation(None, None, tuple(sorted(schema_errors)))
    return run(document)


def policy_json_schema() -> str:
    """The shipped schema file's text, without its last newline (for `complaintflow schema`)."""
    from complaintflow.rules.schema import schema_text

    return schema_text().removesuffix("\n")

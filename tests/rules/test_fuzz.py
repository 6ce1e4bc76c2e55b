"""Any file an author can write gets a located error or a valid policy, never a traceback."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complaintflow.errors import PolicyError
from complaintflow.rules.compiler import check_document
from complaintflow.rules.source import parse_yaml
from tests.support.policies import SMALL_POLICY

LINES = SMALL_POLICY.splitlines()
YAML_BITS = [
    ":",
    " ",
    "-",
    "{",
    "}",
    "[",
    "]",
    "'",
    '"',
    "#",
    "&a",
    "*a",
    "\t",
    "\n",
    "!!",
    "|",
    ">",
    "?",
    "0",
    "true",
    "null",
    "é",
    "\x00",
    "{{",
    "score >=",
    "&&",
    "(",
]


def outcome(text: str | bytes) -> None:
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    try:
        result = check_document(parse_yaml(raw, "fuzz.yaml"))
    except PolicyError as exc:
        diagnostics = exc.diagnostics
        assert diagnostics
    else:
        diagnostics = result.diagnostics
        assert result.policy is not None or result.errors
    for diagnostic in diagnostics:
        assert diagnostic.file == "fuzz.yaml"
        assert diagnostic.line >= 1 and diagnostic.column >= 1
        assert diagnostic.message


@st.composite
def mutated(draw: st.DrawFn) -> str:
    lines = list(LINES)
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["insert", "delete", "duplicate", "cut", "swap"]))
        line = lines[index]
        if action == "insert":
            at = draw(st.integers(0, len(line)))
            bit = draw(st.sampled_from(YAML_BITS) | st.text(max_size=3))
            lines[index] = line[:at] + bit + line[at:]
        elif action == "delete":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, line)
        elif action == "cut":
            lines[index] = line[: draw(st.integers(0, len(line)))]
        else:
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
        if not lines:
            break
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_policies(text: str) -> None:
    outcome(text)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300))
def test_random_bytes_and_text(data: str | bytes) -> None:
    outcome(data)


@pytest.mark.slow
@settings(
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated() | st.binary(max_size=400) | st.text(max_size=400))
def test_ten_thousand_policies(data: str | bytes) -> None:
    """The long run (pytest -m slow): mutated and random files, always a located outcome."""
    outcome(data)

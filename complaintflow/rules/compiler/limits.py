"""The bounds every compiled policy keeps, and the platform facts the compiler checks against.

Also the small text helpers the passes share: shortened values and condition offsets.
"""

from __future__ import annotations

import re
from typing import Any

from complaintflow.platforms.facts import SPECS

DEFAULT_APPROVAL_TIMEOUT = "24h"
# Bounds that keep every compiled policy runnable: names reach search attributes (keyword
# values) and workflow ids; conditions run inside CEL's per-evaluation iteration budget
# (10,000); durations become Temporal timers.
MAX_NAME_CHARS = 64
MAX_VERSION = 1_000_000
MAX_CONDITION_CHARS = 4_000
MAX_ITERATIONS = 5_000
MAX_COMPILED_BYTES = 256 * 1024
DEFAULT_ON_TIMEOUT = "escalate"
# The route name decisions carry when a mention took the policy's `unread:` route.
UNREAD_ROUTE = "unread"
# Which removal each platform lets a brand do on its own channel, and the fields naming a
# brand's account there: read from the per-platform spec table, their one home.
REMOVABLE: dict[str, frozenset[str]] = {name: spec.removals for name, spec in SPECS.items()}
ACCOUNT_FIELDS: dict[str, tuple[str, str]] = {
    name: spec.account_fields for name, spec in SPECS.items()
}

_STRINGS = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def iteration_bound(source: str) -> int:
    """A safe over-estimate of the comprehension iterations one evaluation of `source` does.

    Conditions read no lists from the mention, so every comprehension ranges over list or map
    literals (or what they produce: never more items than the literals hold); n nested
    comprehensions over at most `items` elements loop at most items ** n times.
    """
    code = _STRINGS.sub("''", source)
    deepest, depth = 0, 0
    stack: list[int] = []
    for match in re.finditer(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(|[()]", code):
        token = match[0]
        if token == ")":
            if stack and stack[-1] == depth:
                stack.pop()
            depth -= 1
            continue
        depth += 1
        if token != "(":
            stack.append(depth)
            deepest = max(deepest, len(stack))
    if not deepest:
        return 0
    items = code.count(",") + code.count("[") + code.count("{")
    bound: int = max(1, items) ** deepest
    return bound


def shown(value: Any) -> str:
    """`value` as the author wrote it, cut to 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def offset_of(text: str, line: int, column: int) -> int:
    """0-based character offset of a 1-based (line, column) in `text`."""
    lines = text.split("\n")
    return sum(len(x) + 1 for x in lines[: line - 1]) + column - 1

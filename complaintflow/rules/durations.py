"""Parses the durations policies use (30m, 2h, 1h30m, 7d) into whole seconds."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+)\s*(d|h|m|s)")
_WHOLE = re.compile(r"^\s*(?:\d+\s*[dhms]\s*)+$")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}

DURATION_HINT = "write a duration such as 30m, 2h, 1h30m or 7d"
# The longest wait a policy may ask for: a timer that long is still a valid datetime and
# a Temporal timer, and no complaint is worth waiting on longer.
MAX_DURATION_SECONDS = 366 * 86400
_MAX_DIGITS = 12
_TOO_LONG = 86400 * 1_000_000_000_000


def parse_duration(text: str) -> int | None:
    """Seconds in `text`, or None when it is not a duration (zero is allowed)."""
    if not isinstance(text, str) or not _WHOLE.match(text):
        return None
    parts: list[tuple[str, str]] = _PART.findall(text)
    if any(len(n.lstrip("0")) > _MAX_DIGITS for n, _ in parts):
        return _TOO_LONG  # far beyond any bound; never converted to a timer
    return sum(int(n) * _UNIT_SECONDS[u] for n, u in parts)


def format_duration(seconds: int) -> str:
    """The shortest text for `seconds`, e.g. 5400 -> '1h30m'."""
    if seconds == 0:
        return "0s"
    out = []
    for unit, size in _UNIT_SECONDS.items():
        count, seconds = divmod(seconds, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)

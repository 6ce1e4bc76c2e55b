"""Lines of a UTF-8 text file, with a located error for bytes that are not UTF-8.

A labelled history exported from a spreadsheet is often in another encoding; reading it must
say which line and byte are wrong, not end in a traceback. A byte-order mark is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path


def utf8_lines(path: Path, error: type[Exception]) -> Iterator[str]:
    """The lines of `path` (line endings kept, as csv expects); raise `error` at a line that
    is not UTF-8, naming it."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            try:
                yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise error(
                    f"{path}:{number}: byte 0x{raw[exc.start]:02x} at column {exc.start + 1} is "
                    "not UTF-8; save the file as UTF-8"
                ) from None

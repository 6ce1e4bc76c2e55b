"""The one reader of classifier model files: regular files only, and bounded in file size,
decompressed size, JSON nesting, number of values and reading time.

A policy names its model files, and `validate`, `serve` and its live reload read them. A name
can point at `/dev/zero`, a FIFO or a gzip bomb; each must be refused with a reason (a
ModelError), never hang the reader or exhaust its memory.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import stat
import time
import zlib
from pathlib import Path
from typing import Any

from complaintflow.errors import ComplaintflowError

MIB = 1024 * 1024
# The shipped severity model is 0.35 MiB on disk, 1.2 MiB of JSON with 120,000 values and
# three levels of nesting; these leave room for models trained on far larger histories while
# keeping the parsed model to a few hundred MiB at worst.
MAX_FILE_BYTES = 16 * MIB
MAX_JSON_BYTES = 32 * MIB
MAX_VALUES = 3_000_000
MAX_DEPTH = 8
MAX_SECONDS = 30.0  # a regular file on a slow or remote disk; never reached on a local one
_CHUNK = MIB
_GZIP = 16 + zlib.MAX_WBITS  # a gzip header and trailer, as `complaintflow train` writes

# A JSON string (escapes included), to blank out before looking at the structure around it.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b"[]{},")
_PAIRS = bytes.maketrans(b"[]{}", b"()()")

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class ModelError(ComplaintflowError, ValueError):
    """A model file is missing, unreadable, corrupt or of another version; says which."""


@dataclasses.dataclass(frozen=True)
class Bounds:
    """How much of a model file is read, decompressed and parsed, at most."""

    file_bytes: int = MAX_FILE_BYTES
    json_bytes: int = MAX_JSON_BYTES
    values: int = MAX_VALUES
    depth: int = MAX_DEPTH
    seconds: float = MAX_SECONDS


DEFAULT_BOUNDS = Bounds()


def read_model_file(path: Path, bounds: Bounds = DEFAULT_BOUNDS) -> bytes:
    """The bytes of the model file at `path`; raise ModelError unless it is a regular file
    within `bounds.file_bytes`, read within `bounds.seconds`."""
    name = repr(str(path))
    try:
        _check_kind(name, os.stat(path).st_mode)  # refuse a device or FIFO before opening it
        # O_NONBLOCK: if a FIFO is swapped in after the stat, opening it cannot hang.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ModelError(f"model file {name} does not exist") from None
    except OSError as exc:
        raise ModelError(f"cannot read model file {name}: {exc.strerror}") from None
    try:
        opened = os.fstat(fd)
        _check_kind(name, opened.st_mode)  # what was opened, whatever the name points at now
        _check_size(name, opened.st_size, bounds.file_bytes)
        return _read_bounded(fd, name, bounds)
    except OSError as exc:
        raise ModelError(f"cannot read model file {name}: {exc.strerror}") from None
    finally:
        os.close(fd)


def _check_kind(name: str, mode: int) -> None:
    for test, kind in _KINDS:
        if test(mode):
            raise ModelError(f"model file {name} is {kind}, not a regular file")
    if not stat.S_ISREG(mode):
        raise ModelError(f"model file {name} is not a regular file")


def _check_size(name: str, size: int, limit: int) -> None:
    if size > limit:
        raise ModelError(
            f"model file {name} is {_mib(size)}; a model file is at most {_mib(limit)}"
        )


def _read_bounded(fd: int, name: str, bounds: Bounds) -> bytes:
    """At most `bounds.file_bytes` (the file may grow after it was measured)."""
    deadline = time.monotonic() + bounds.seconds
    parts: list[bytes] = []
    size = 0
    while chunk := os.read(fd, min(_CHUNK, bounds.file_bytes + 1 - size) or 1):
        parts.append(chunk)
        size += len(chunk)
        _check_size(name, size, bounds.file_bytes)
        _check_time(name, deadline, bounds.seconds)
    return b"".join(parts)


def _check_time(name: str, deadline: float, seconds: float) -> None:
    if time.monotonic() > deadline:
        raise ModelError(f"reading model file {name} took over {seconds:g} s")


def unpack(packed: bytes, source: str, bounds: Bounds = DEFAULT_BOUNDS) -> Any:
    """The JSON value inside a model file's bytes (named `source` in errors), decompressed
    and parsed within `bounds`; raise ModelError saying which bound it passes."""
    name = repr(source)
    text = _decompressed(packed, name, bounds)
    _check_structure(text, name, bounds)
    try:
        return json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _not_a_model(name) from None


def _not_a_model(name: str) -> ModelError:
    return ModelError(
        f"{name} is not a complaintflow model (not gzip-compressed JSON); "
        "make one with `complaintflow train`"
    )


def _decompressed(packed: bytes, name: str, bounds: Bounds) -> bytes:
    """One gzip member, decompressed a chunk at a time and never past `bounds.json_bytes`."""
    inflater = zlib.decompressobj(_GZIP)
    deadline = time.monotonic() + bounds.seconds
    parts: list[bytes] = []
    size = 0
    pending = packed
    try:
        while pending and not inflater.eof:
            part = inflater.decompress(pending, min(_CHUNK, bounds.json_bytes + 1 - size))
            pending = inflater.unconsumed_tail
            parts.append(part)
            size += len(part)
            if size > bounds.json_bytes:
                raise ModelError(
                    f"{name} decompresses past {_mib(bounds.json_bytes)}; a model is at most "
                    f"{_mib(bounds.json_bytes)} of JSON"
                )
            _check_time(name, deadline, bounds.seconds)
    except zlib.error:
        raise _not_a_model(name) from None
    # Truncated, or followed by anything (a second member is not what `train` writes).
    if not inflater.eof or inflater.unused_data:
        raise _not_a_model(name)
    return b"".join(parts)


def _check_structure(text: bytes, name: str, bounds: Bounds) -> None:
    """Refuse JSON nested deeper than `bounds.depth` or holding more than `bounds.values`
    values, before the parser builds any of it (C-speed passes over the bytes)."""
    structure = _STRING.sub(b'""', text).translate(None, _NOT_STRUCTURE)
    brackets = structure.translate(_PAIRS, b",")
    # Each comma separates two values; each non-empty list or object holds one more.
    values = len(structure) - len(brackets) + len(brackets) // 2 - brackets.count(b"()") + 1
    if values > bounds.values:
        raise ModelError(
            f"{name} holds more than {bounds.values:,} values; a model holds at most "
            f"{bounds.values:,}"
        )
    # Each pass removes the innermost pairs of brackets, one level of nesting: a pair left
    # after `depth` passes sits deeper than that.
    for _ in range(bounds.depth):
        brackets = brackets.replace(b"()", b"")
    if b"()" in brackets:
        raise ModelError(
            f"{name} nests deeper than {bounds.depth} levels; a model nests three "
            "(its sections, their entries, each entry's weights)"
        )


def _mib(size: int) -> str:
    """A size for a message: MiB, or bytes when small (the bounds set in tests are)."""
    return f"{size / MIB:,.1f} MiB" if size >= MIB else f"{size:,} bytes"

"""The decision log: one JSON line per throwaway remark, on disk before ingest answers 2xx.

A platform redelivers a webhook it is unsure about, so a remark already logged is not logged
again: the log remembers the keys (brand and post) of its most recent lines (read back from the
file's tail at start-up). Lines that arrive together share one write and one fsync (group
commit), so a burst costs a few fsyncs, not one per remark. A line torn by a crash (of this
process, or of another writer killed mid-line while this one runs) is skipped with a warning
when read back and never glued to the next one: each write first looks at the file's last
byte and starts a fresh line when it is not a newline. A write that fails (a full disk) is
cut back off the file, so a failed append leaves nothing behind and the caller hears of it.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger()
REMEMBER = 200_000  # keys of the most recent lines kept for spotting redeliveries
TAIL_BYTES = 64 * 1024 * 1024  # how much of an existing log is read back at start-up


def key_of(record: dict[str, Any]) -> str:
    """What makes a line unique: the brand (policy) and the post it is about; a post
    delivered to two brands is a line for each."""
    return json.dumps(
        [str(record.get("policy", "")), str(record.get("platform", "")), str(record.get("id", ""))]
    )


class DecisionLog:
    """Append-only JSON lines with redelivery dedupe and group commit."""

    def __init__(self, path: Path, *, remember: int = REMEMBER) -> None:
        self.path = path
        self.remember = remember
        self._seen: dict[str, None] = {}  # insertion-ordered: the oldest key goes first
        self._pending: dict[str, asyncio.Future[None]] = {}
        self._queue: list[tuple[str, bytes]] = []
        self._writer: asyncio.Task[None] | None = None
        self._torn = False
        for key in self._read_tail():
            self._remember(key)

    async def append(self, record: dict[str, Any]) -> bool:
        """Write `record` durably; False if its post is already logged (a redelivery).

        Raises OSError if the line could not be written: the caller must not answer 2xx.
        """
        key = key_of(record)
        if key in self._seen:
            return False
        if key in self._pending:  # the same post, delivered twice at once
            await asyncio.shield(self._pending[key])
            return False
        # Encoded here, not in the writer: text that is not valid Unicode (a lone surrogate)
        # is escaped instead of failing the whole batch's write.
        line = json.dumps(record, ensure_ascii=False).encode("utf-8", "backslashreplace") + b"\n"
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending[key] = done
        self._queue.append((key, line))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        await asyncio.shield(done)
        return True

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                await asyncio.to_thread(self._write, [line for _, line in batch])
            except Exception as exc:  # every waiter hears of it; the writer lives on
                for key, _ in batch:
                    self._pending.pop(key).set_exception(exc)
                continue
            for key, _ in batch:
                self._remember(key)
                self._pending.pop(key).set_result(None)

    def _write(self, lines: list[bytes]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+b") as handle:
            start = handle.seek(0, os.SEEK_END)
            try:
                # Finish a line cut short (by a crash, or by another writer since the last
                # look), so ours stays whole.
                if self._torn or _ends_mid_line(handle, start):
                    handle.write(b"\n")
                handle.write(b"".join(lines))
                handle.flush()
                os.fsync(handle.fileno())
            except BaseException:
                self._cut_back(handle, start)
                raise
        self._torn = False

    def _cut_back(self, handle: Any, size: int) -> None:
        """Remove what a failed write left after `size` bytes; if even that fails, make the
        next write start on a new line."""
        try:
            handle.truncate(size)
            os.fsync(handle.fileno())
        except OSError:
            self._torn = True

    def _remember(self, key: str) -> None:
        self._seen[key] = None
        if len(self._seen) > self.remember:
            del self._seen[next(iter(self._seen))]

    def _read_tail(self) -> list[str]:
        if self.path.exists() and not self.path.is_file():
            return []  # a device or a pipe (say /dev/null): nothing to read back
        try:
            with self.path.open("rb") as handle:
                size = handle.seek(0, os.SEEK_END)
                start = max(0, size - TAIL_BYTES)
                handle.seek(start)
                data = handle.read()
        except FileNotFoundError:
            return []
        self._torn = bool(data) and not data.endswith(b"\n")
        lines = data.split(b"\n")
        if start:
            lines = lines[1:]  # the first one is cut by the seek
        keys = []
        for line in lines[-self.remember :]:
            try:
                record = json.loads(line)
            except ValueError:  # blank, or torn by a crash
                if line.strip():
                    log.warning(
                        "decision_log.torn_line",
                        path=str(self.path),
                        line=line[:80].decode("utf-8", "replace"),
                    )
                continue
            if isinstance(record, dict):
                keys.append(key_of(record))
        return keys


def _ends_mid_line(handle: Any, size: int) -> bool:
    """Whether the file of `handle` (`size` bytes) ends without a newline; the handle is
    opened for appending, so where this leaves the position does not matter."""
    if size == 0 or not os.path.isfile(handle.name):
        return False
    handle.seek(size - 1)
    return bool(handle.read(1) != b"\n")

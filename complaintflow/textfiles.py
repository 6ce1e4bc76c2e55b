"""Lines and CSV rows of a UTF-8 text file, bounded, with located errors.

A labelled history exported from a spreadsheet is often in another encoding, or holds a quote
that is never closed; reading it must say which line is wrong, not end in a traceback, and no
line, field or record may grow without bound (one 100 MB field took 4.8 GB; one unclosed
quote swallowed two million lines into one field). A byte-order mark is skipped.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterable, Iterator
from pathlib import Path

# A post is at most 25,000 characters (an X long post; a Facebook comment 8,000, a review
# 4,096): a field past 100,000 is not a post, and a line past 1 MiB is not a row of posts.
MAX_FIELD_CHARS = 100_000
MAX_LINE_BYTES = 1024 * 1024
# A post's line breaks inside a quoted field: a record running on longer is an open quote.
MAX_RECORD_LINES = 100


@dataclasses.dataclass(frozen=True)
class CsvBounds:
    """How long a field, a line and a record (in lines) of a CSV file may be."""

    field_chars: int = MAX_FIELD_CHARS
    line_bytes: int = MAX_LINE_BYTES
    record_lines: int = MAX_RECORD_LINES


DEFAULT_CSV_BOUNDS = CsvBounds()


def utf8_lines(
    path: Path, error: type[Exception], *, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[str]:
    """The lines of `path` (line endings kept, as csv expects); raise `error` at a line that
    is not UTF-8 or is longer than `max_line_bytes`, naming it."""
    with path.open("rb") as handle:
        number = 0
        while raw := handle.readline(max_line_bytes + 1):
            number += 1
            if len(raw) > max_line_bytes:
                raise error(
                    f"{path}:{number}: a line is over {max_line_bytes:,} bytes; "
                    "is this a text file of one row per line?"
                )
            try:
                yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise error(
                    f"{path}:{number}: byte 0x{raw[exc.start]:02x} at column {exc.start + 1} is "
                    "not UTF-8; save the file as UTF-8"
                ) from None


class _Feed:
    """The lines handed to the csv reader, counted per record, with where a quote opened.

    A record continues past a line break only inside a quoted field, so the line where the
    count of quotes in the record last turned odd is where the open quote is.
    """

    def __init__(self, lines: Iterable[str], path: Path, error: type[Exception], limit: int):
        self._lines = iter(lines)
        self._path = path
        self._error = error
        self._limit = limit
        self.number = 0  # lines read so far
        self.start = 1  # the line the current record starts on
        self.opened = 1  # where the record's quotes last turned odd
        self._quotes = 0
        self.ran_out = False  # the reader asked for a line past the end, in this record
        self.last = ""

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        if self.number - self.start + 1 >= self._limit:
            raise self._error(
                f"{self._path}:{self.opened}: a quoted field opened on line {self.opened} is "
                f"still open {self._limit} lines on (line {self.number}); close its quote "
                '(write "" for a quote inside a quoted field)'
            )
        try:
            line = next(self._lines)
        except StopIteration:
            self.ran_out = True
            raise
        self.number += 1
        quotes = line.count('"')
        if quotes % 2 and self._quotes % 2 == 0:
            self.opened = self.number
        self._quotes += quotes
        self.last = line
        return line

    def next_record(self) -> None:
        self.start = self.opened = self.number + 1
        self._quotes = 0
        self.ran_out = False

    def ended_in_quotes(self) -> bool:
        """Whether the file ended inside the record just read's quoted field.

        The reader asks for another line after one ending in a line break only inside quotes.
        """
        odd = self._quotes % 2 == 1
        return self.ran_out and (self.last.endswith("\n") or (self.number > self.start and odd))


class CsvRows:
    """The rows of a CSV file within `bounds`: `columns` (its header), then, when iterated,
    (the line a row starts on, its fields by column) for each non-blank row.

    Raises `error` naming the file and line: a field over `bounds.field_chars` characters, a
    quoted field still open `bounds.record_lines` lines on or at the end of the file, a line
    over `bounds.line_bytes` bytes, bytes that are not UTF-8, or what csv cannot read.
    """

    def __init__(
        self, path: Path, error: type[Exception], bounds: CsvBounds = DEFAULT_CSV_BOUNDS
    ) -> None:
        self.path = path
        self._error = error
        self._bounds = bounds
        lines = utf8_lines(path, error, max_line_bytes=bounds.line_bytes)
        self._feed = _Feed(lines, path, error, bounds.record_lines)
        self._reader = csv.reader(self._feed)
        header = self._record()
        self.columns: list[str] = header[1] if header else []

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        while (record := self._record()) is not None:
            line, fields = record
            if fields:  # a blank line, as csv.DictReader skips them
                yield line, dict(zip(self.columns, fields, strict=False))

    def _record(self) -> tuple[int, list[str]] | None:
        feed = self._feed
        feed.next_record()
        # The csv module has one process-wide field limit: set it for this read only, so
        # other readers (and other files' bounds) never see it.
        previous = csv.field_size_limit(self._bounds.field_chars)
        try:
            fields = next(self._reader)
        except StopIteration:
            return None
        except csv.Error as exc:
            raise self._csv_error(exc) from None
        finally:
            csv.field_size_limit(previous)
        if feed.ended_in_quotes():
            raise self._error(
                f"{self.path}:{feed.opened}: a quoted field opened on line {feed.opened} is not "
                f"closed before the end of the file (line {feed.number}); close its quote "
                '(write "" for a quote inside a quoted field)'
            )
        return feed.start, fields

    def _csv_error(self, exc: csv.Error) -> Exception:
        feed = self._feed
        if "field larger than field limit" in str(exc):
            open_quote = (
                f" (an unclosed quote at line {feed.opened}?)" if feed.number > feed.start else ""
            )
            return self._error(
                f"{self.path}:{feed.number}: a field is over {self._bounds.field_chars:,} "
                f"characters{open_quote}"
            )
        return self._error(f"{self.path}:{feed.number}: not CSV the reader understands: {exc}")

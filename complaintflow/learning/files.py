"""Reads mentions in bulk from CSV or JSON-lines files (for `simulate` and the benchmarks).

CSV columns other than the text and id are used when their names are recognised (for example
the airline data set's `retweet_count`, `name` and `tweet_created`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from complaintflow.errors import BatchError as BatchError  # noqa: PLC0414 - re-exported
from complaintflow.rules.mention import Author, Mention, MentionError
from complaintflow.textfiles import DEFAULT_CSV_BOUNDS, CsvBounds, CsvRows, utf8_lines

# Recognised CSV columns -> Mention fields.
_INT_COLUMNS = {
    "retweet_count": "reshares",
    "reshares": "reshares",
    "replies": "replies",
    "reply_count": "replies",
    "likes": "likes",
    "rating": "rating",
}
_AUTHOR_COLUMNS = ("name", "author", "author_id", "user", "screen_name")
_TIME_COLUMNS = ("tweet_created", "created_at", "created")


def read_mentions(
    path: Path,
    *,
    text_column: str = "text",
    id_column: str | None = None,
    platform: str = "x",
    bounds: CsvBounds = DEFAULT_CSV_BOUNDS,
) -> Iterator[Mention]:
    """Mentions from a .csv or .jsonl file, in file order; BatchError names the line at fault
    (including a line, field or quoted record past `bounds`)."""
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        yield from _jsonl(path, bounds)
        return
    yield from _csv(path, text_column, id_column, platform, bounds)


def count_rows(path: Path) -> int:
    """A quick estimate of the rows in `path` (for the progress bar): its line breaks,
    counted a block at a time (a file may hold one enormous line)."""
    with path.open("rb") as handle:
        breaks = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
    return max(0, breaks - (0 if path.suffix.lower() == ".jsonl" else 1))


def _jsonl(path: Path, bounds: CsvBounds) -> Iterator[Mention]:
    lines = utf8_lines(path, BatchError, max_line_bytes=bounds.line_bytes)
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            mention = Mention.from_dict(json.loads(line))
        except (json.JSONDecodeError, MentionError) as exc:
            raise BatchError(f"{path}:{number}: {exc}") from None
        except RecursionError:  # json's decoder stops itself past the interpreter's depth
            raise BatchError(
                f"{path}:{number}: the JSON nests too deeply to be a mention"
            ) from None
        yield mention


def _csv(
    path: Path, text_column: str, id_column: str | None, platform: str, bounds: CsvBounds
) -> Iterator[Mention]:
    reader = CsvRows(path, BatchError, bounds)
    columns = reader.columns
    if text_column not in columns:
        raise BatchError(
            f"{path}: no column {text_column!r} (columns: "
            f"{', '.join(columns)}); choose one with --text-column"
        )
    if id_column is not None and id_column not in columns:
        raise BatchError(f"{path}: no column {id_column!r}; choose one with --id-column")
    author_column = next((c for c in _AUTHOR_COLUMNS if c in columns), None)
    time_column = next((c for c in _TIME_COLUMNS if c in columns), None)
    ints = {c: f for c, f in _INT_COLUMNS.items() if c in columns}
    for number, (_, row) in enumerate(reader, 1):
        text = (row.get(text_column) or "").replace("\r", " ")
        values: dict[str, Any] = {}
        for column, field in ints.items():
            raw = (row.get(column) or "0").strip()
            try:
                values[field] = max(0, int(float(raw)))
            except ValueError:
                raise BatchError(
                    f"{path}: row {number}: {column} = {raw!r} is not a number"
                ) from None
        name = (row.get(author_column) or "") if author_column else ""
        yield Mention(
            id=(row.get(id_column) or str(number)) if id_column else str(number),
            text=text,
            platform=platform,
            created_at=(row.get(time_column) or "") if time_column else "",
            author=Author(handle=name, name=name),
            # A stream of a brand's mentions: a post opening with @handle speaks to it.
            addressed=text.lstrip().startswith("@"),
            **values,
        )

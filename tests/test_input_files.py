"""Files people hand to `simulate`, `train` and `evaluate`: whatever bytes they hold, the
answer is the rows or an error that names the file and line, never a traceback."""

from __future__ import annotations

import csv
import io
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complaintflow.learning.evaluation import read_examples
from complaintflow.learning.files import BatchError, read_mentions
from complaintflow.learning.training import TrainingError
from complaintflow.textfiles import MAX_FIELD_CHARS, MAX_RECORD_LINES, CsvBounds, CsvRows
from tests.support.fixtures import CliResult
from tests.support.paths import EXAMPLE_POLICY

Cli = Callable[..., CliResult]

ROWS = st.lists(
    st.tuples(
        st.text(max_size=30),
        st.sampled_from(["0", "1", "2", "x", "", "1.0", "yes", "nan", "1e999", "-1"]),
        st.sampled_from(["0", "3", "9", "", "-1", "2.5"]),
    ),
    max_size=6,
).map(lambda rows: "".join(f'"{t}",{lab},{sev}\n' for t, lab, sev in rows))
HEADERS = st.sampled_from(
    [b"text,label,severity\n", b"text,label\n", b"", b"\xef\xbb\xbftext,label,severity\n"]
)
BODIES = (
    st.binary(max_size=400)
    | ROWS.map(lambda text: text.encode("utf-8", "surrogatepass"))
    | st.sampled_from([b"\x00\x00", b'"open quote\n', b"\xe9t\xe9\n", b"[1]\n", b"{}\n", b"7\n"])
)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for the generated files (each example overwrites the last)."""
    return tmp_path_factory.mktemp("inputs")


def _write(folder: Path, suffix: str, content: bytes) -> Path:
    path = folder / f"input{suffix}"
    path.write_bytes(content)
    return path


@SETTINGS
@given(HEADERS, BODIES)
def test_a_labelled_file_reads_or_says_where_it_is_wrong(
    folder: Path, header: bytes, body: bytes
) -> None:
    path = _write(folder, ".csv", header + body)
    try:
        examples = read_examples(
            path, text_column="text", label_column="label", severity_column="severity"
        )
    except TrainingError as exc:
        assert str(path) in str(exc)
    else:
        assert examples and all(e.mention.text.strip() for e in examples)


@SETTINGS
@given(st.sampled_from([".csv", ".jsonl"]), HEADERS, BODIES)
def test_a_mentions_file_reads_or_says_where_it_is_wrong(
    folder: Path, suffix: str, header: bytes, body: bytes
) -> None:
    path = _write(folder, suffix, (header if suffix == ".csv" else b"") + body)
    try:
        mentions = list(read_mentions(path))
    except BatchError as exc:
        assert str(path) in str(exc)
    else:
        assert all(isinstance(m.text, str) for m in mentions)


def test_a_latin_1_file_is_named_with_its_line(folder: Path) -> None:
    path = _write(folder, ".csv", b'text,label\n"ok",0\n"caf\xe9 broken",1\n')
    try:
        read_examples(path, text_column="text", label_column="label")
    except TrainingError as exc:
        assert str(exc) == f"{path}:3: byte 0xe9 at column 5 is not UTF-8; save the file as UTF-8"
    else:
        raise AssertionError("read a file that is not UTF-8")


# -- bounds: a field, a line and a quoted record ------------------------------------------
# Each command that reads a CSV, as a person runs it on `path`.
COMMANDS: dict[str, Callable[[Path], list[str | Path]]] = {
    "simulate": lambda path: ["simulate", EXAMPLE_POLICY, path, "--id-column", "id"],
    "train": lambda path: ["train", path, "--out", path.with_suffix(".cfmodel"), "--folds", "0"],
    "evaluate": lambda path: ["evaluate", EXAMPLE_POLICY, path],
}


def _rows(count: int, start: int = 1) -> str:
    return "".join(
        f"{i},plain mention number {i} about a late order,{i % 2}\n"
        for i in range(start, start + count)
    )


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_unclosed_quote_does_not_swallow_the_rest_of_the_file(
    folder: Path, cli: Cli, command: str
) -> None:
    """Before, line 3's open quote took every later row into one mention, silently."""
    text = "id,text,label\n" + _rows(1) + '2,"my order never arrived,1\n' + _rows(500, 3)
    path = _write(folder, ".csv", text.encode())
    result = cli(*COMMANDS[command](path))
    assert result.code in (1, 2), result.out
    assert f"{path}:3: a quoted field opened on line 3 is still open" in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_quote_open_at_the_end_of_the_file_is_named(folder: Path, cli: Cli, command: str) -> None:
    text = "id,text,label\n" + _rows(3) + '4,"my order never arrived,1\n' + _rows(5, 5)
    path = _write(folder, ".csv", text.encode())
    result = cli(*COMMANDS[command](path))
    assert result.code in (1, 2), result.out
    assert f"{path}:5: a quoted field opened on line 5 is not closed before the end" in result.err


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_field_past_the_bound_is_refused_with_its_line(
    folder: Path, cli: Cli, command: str
) -> None:
    half = "late " * (MAX_FIELD_CHARS // 8)
    text = "id,text,label\n" + _rows(2) + f'3,"{half}\n{half}\n{half}",1\n' + _rows(2, 4)
    path = _write(folder, ".csv", text.encode())
    result = cli(*COMMANDS[command](path))
    assert result.code in (1, 2), result.out
    bound = f"{MAX_FIELD_CHARS:,}"
    assert f"{path}:5: a field is over {bound} characters (an unclosed quote at line 4?)" in (
        result.err
    )


@pytest.mark.parametrize("opener", [b"[", b'{"a":'])
def test_a_deeply_nested_json_line_is_named(folder: Path, opener: bytes) -> None:
    closer = b"]" if opener == b"[" else b"}"
    path = _write(folder, ".jsonl", b'{"text": "ok"}\n' + opener * 100_000 + closer * 100_000)
    with pytest.raises(BatchError, match=f"{path}:2: the JSON nests too deeply"):
        list(read_mentions(path))


def test_a_huge_line_is_refused_without_reading_it_whole(folder: Path) -> None:
    """A 4 MB field on one line, read with a 64 KiB line bound: memory stays near the bound."""
    path = _write(folder, ".csv", b'id,text\n1,"' + b"a" * 4_000_000 + b'"\n')
    tracemalloc.start()
    try:
        with pytest.raises(BatchError, match=f"{path}:2: a line is over 65,536 bytes"):
            list(read_mentions(path, bounds=CsvBounds(line_bytes=65_536)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, f"peak {peak:,} bytes"


POSTS = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00\r"), max_size=40)
SMALL = CsvBounds(field_chars=200, line_bytes=4096, record_lines=8)


@SETTINGS
@given(st.lists(POSTS, min_size=1, max_size=12), st.data())
def test_a_quote_left_open_anywhere_is_named_where_it_opened(
    folder: Path, posts: list[str], data: st.DataObject
) -> None:
    """Rows written by a spreadsheet, then one row's closing quote deleted."""
    posts = [p.replace("\n", " ") for p in posts]
    broken = data.draw(st.integers(0, len(posts) - 1))
    lines = ["id,text\n"] + [f"{i},{_quoted(p, close=i != broken)}\n" for i, p in enumerate(posts)]
    lines += [f"{j},plain\n" for j in range(data.draw(st.integers(0, 20)))]
    path = _write(folder, ".csv", "".join(lines).encode())
    opened = broken + 2
    try:
        rows = list(CsvRows(path, BatchError, SMALL))
    except BatchError as exc:
        message = str(exc)
        assert message.startswith(f"{path}:{opened}: "), message
        assert f"opened on line {opened}" in message or "a field is over" in message, message
    else:
        # the quote closed on a later line: only where another quote followed it
        assert any('"' in line for line in lines[opened:]), rows


def _quoted(text: str, *, close: bool) -> str:
    return '"' + text.replace('"', '""') + ('"' if close else "")


@SETTINGS
@given(st.lists(st.tuples(POSTS, POSTS), max_size=12))
def test_a_well_quoted_file_reads_back_as_written(
    folder: Path, rows: list[tuple[str, str]]
) -> None:
    """Quotes, commas and line breaks inside fields are no reason to refuse a file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["text", "note"])
    writer.writerows(rows)
    path = _write(folder, ".csv", buffer.getvalue().encode())
    bounds = CsvBounds(field_chars=200, line_bytes=4096, record_lines=MAX_RECORD_LINES)
    read = list(CsvRows(path, BatchError, bounds))
    assert [(r["text"], r["note"]) for _, r in read] == rows
    starts = [line for line, _ in read]
    assert starts == sorted(set(starts)) and (not starts or starts[0] == 2)


def test_a_files_bounds_never_reach_other_csv_readers(tmp_path: Path) -> None:
    """The csv module's field limit is process-wide: reading one file within small bounds
    leaves it as it was, so a later reader (another command, another thread) is unaffected."""
    before = csv.field_size_limit()
    path = tmp_path / "small.csv"
    path.write_text("id,text\n1,hello\n", encoding="utf-8")
    assert [row for _, row in CsvRows(path, BatchError, SMALL)] == [{"id": "1", "text": "hello"}]
    assert csv.field_size_limit() == before

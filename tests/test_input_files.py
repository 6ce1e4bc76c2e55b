"""Files people hand to `simulate`, `train` and `evaluate`: whatever bytes they hold, the
answer is the rows or an error that names the file and line, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complaintflow.batch import BatchError, read_mentions
from complaintflow.evaluation import read_examples
from complaintflow.training import TrainingError

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

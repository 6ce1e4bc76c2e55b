"""`complaintflow train` at its edges: labels as people write them, too few rows for the
folds, and a model file that cannot be written. Each ends in a result or a reason, never a
traceback, and never half a model on disk."""

from __future__ import annotations

import os
import resource
import signal
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complaintflow.learning.training import TrainingError, dump_model, read_labelled
from complaintflow.rules.classifiers import load_model
from complaintflow.rules.model_file import MAX_JSON_BYTES
from tests.support.fixtures import CliResult
from tests.support.paths import ROOT

pytest.importorskip("sklearn")
Cli = Callable[..., CliResult]

TEXTS = [
    ("my order never arrived and nobody answers", 1),
    ("lovely sunny day at the beach", 0),
    ("the kettle arrived broken, I want a refund", 1),
    ("what a lovely day with friends", 0),
    ("charged twice and nobody answers my emails", 1),
    ("sunny beach day with friends", 0),
]
# Each accepted way of writing a class, and the class it names.
ACCEPTED = {
    "1": 1,
    "0": 0,
    "1.0": 1,
    "0.0": 0,
    " yes": 1,
    "no ": 0,
    "TRUE": 1,
    "False": 0,
    "Yes": 1,
    "+1": 1,
    "-0": 0,
    "1.": 1,
}
REFUSED = ["complaint", "not", "1e0", "nan", "inf", "1.5", "2", "-1", "", "１", "0x1", "y"]


def _labelled(path: Path, labels: list[str]) -> Path:
    rows = "".join(
        f'"{text}","{label}"\n' for (text, _), label in zip(TEXTS * 4, labels, strict=False)
    )
    path.write_text("text,label\n" + rows, encoding="utf-8")
    return path


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(st.sampled_from(sorted(ACCEPTED)) | st.sampled_from(REFUSED), min_size=1, max_size=8)
)
def test_labels_are_read_in_the_forms_said_and_refused_at_their_line_otherwise(
    tmp_path_factory: pytest.TempPathFactory, labels: list[str]
) -> None:
    path = _labelled(tmp_path_factory.mktemp("labels") / "labelled.csv", labels)
    first_refused = next((i for i, label in enumerate(labels) if label not in ACCEPTED), None)
    try:
        data = read_labelled(path, text_column="text", label_column="label")
    except TrainingError as exc:
        message = str(exc)
        if first_refused is None:
            assert "every row has label" in message, message
        else:
            assert message.startswith(f"{path}:{first_refused + 2}: label "), message
            assert "write 1 or 0 (also 1.0 and 0.0, true and false, yes and no)" in message
    else:
        assert first_refused is None
        assert data.labels == [ACCEPTED[label] for label in labels]


@pytest.mark.parametrize(("yes", "no"), [("1.0", "0.0"), (" yes", "no "), ("TRUE", "false")])
def test_train_takes_labels_as_spreadsheets_write_them(
    cli: Cli, tmp_path: Path, yes: str, no: str
) -> None:
    labels = [yes if label else no for _, label in TEXTS]
    out = tmp_path / "m.cfmodel"
    result = cli("train", _labelled(tmp_path / "l.csv", labels), "--out", out, "--folds", "2")
    assert result.code == 0, result.err
    assert "classes [0, 1]" in result.out
    assert load_model(out, cached=False).classes == (0, 1)


def test_too_few_rows_of_a_class_for_the_folds_is_a_reason(cli: Cli, tmp_path: Path) -> None:
    """One complaint among six rows: some fold would train on a single class."""
    labels = ["1.0", "0.0", "0.0", "0.0", "0.0", "0.0"]
    out = tmp_path / "m.cfmodel"
    result = cli("train", _labelled(tmp_path / "l.csv", labels), "--out", out)
    assert result.code == 1
    assert (
        "5-fold cross-validation needs at least 2 rows of each class; class 1 has only 1 row"
        in (result.err)
    )
    assert not out.exists()


def test_a_device_is_refused_as_the_model_file(cli: Cli, tmp_path: Path) -> None:
    """/dev/full is a full disk; refused before training, and left a device."""
    labels = [str(label) for _, label in TEXTS]
    result = cli("train", _labelled(tmp_path / "l.csv", labels), "--out", "/dev/full")
    assert result.code == 1
    assert "cannot write a model to '/dev/full': it is not a regular file" in result.err
    assert "labelled rows" not in result.out, "refused before reading and training"
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def _small_file_limit() -> None:
    """In the child: files may grow to 200 bytes (a model is larger); writing past that fails
    with EFBIG, as on a full disk, instead of killing the process."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))


def test_a_full_disk_leaves_the_previous_model_whole(tmp_path: Path) -> None:
    labels = [str(label) for _, label in TEXTS]
    data = _labelled(tmp_path / "l.csv", labels)
    out = tmp_path / "models" / "m.cfmodel"
    out.parent.mkdir()
    out.write_bytes(b"the model that is live")
    result = subprocess.run(
        [sys.executable, "-m", "complaintflow", "train", data, "--out", out, "--folds", "0"],
        cwd=ROOT,
        preexec_fn=_small_file_limit,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"cannot write a model to {str(out)!r}: File too large; nothing was written" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    assert out.read_bytes() == b"the model that is live"
    assert [p.name for p in out.parent.iterdir()] == ["m.cfmodel"], "no temporary file left"


def test_a_model_too_large_to_be_read_back_is_not_written(tmp_path: Path) -> None:
    """`validate` refuses model files past its bounds, so `train` does not write one."""
    out = tmp_path / "m.cfmodel"
    with pytest.raises(TrainingError, match=r"decompresses past 32\.0 MiB.*nothing was written"):
        dump_model({"words": "a" * (MAX_JSON_BYTES + 1)}, out)
    assert list(tmp_path.iterdir()) == []

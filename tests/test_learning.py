"""`complaintflow train` and `evaluate` on real labelled tweets, and the example policy's floor.

The quality floor is measured as `evaluate --folds 5` (and bench/policy_cv.py) measures it:
five folds of X-CI, the example policy end to end, its models retrained inside each fold.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from complaintflow.rules.classifiers import load_model
from tests.support.fixtures import CliResult
from tests.support.paths import EXAMPLE_POLICY, ROOT

XCI = ROOT.parent / "shared" / "data" / "xci" / "train.csv"
pytestmark = pytest.mark.skipif(not XCI.exists(), reason="shared X-CI data not present")
Cli = Callable[..., CliResult]


def _slice(tmp_path: Path, rows: int, **changes: Callable[[dict[str, str]], None]) -> Path:
    with XCI.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        kept = [r for _, r in zip(range(rows), reader, strict=False)]
    for change in changes.values():
        for row in kept:
            change(row)
    path = tmp_path / "labelled.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(kept)
    return path


def test_train_reports_cross_validation_and_writes_a_usable_model(cli: Cli, tmp_path: Path) -> None:
    data = _slice(tmp_path, 600)
    out = tmp_path / "models" / "mine.cfmodel"
    result = cli("train", data, "--out", out, "--folds", "3")
    assert result.code == 0, result.err
    assert "fold 3/3" in result.out
    cross = next(line for line in result.out.splitlines() if line.startswith("cross-validated"))
    f1 = float(cross.split("f1")[1])
    assert 0.5 < f1 <= 1.0, cross
    assert f"wrote {out}" in result.out
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        EXAMPLE_POLICY.read_text()
        .replace('"builtin:complaint"', '"models/mine.cfmodel"')
        .replace('"builtin:severity"', str(ROOT / "complaintflow" / "models" / "severity.cfmodel"))
    )
    assert cli("validate", policy).code == 0


def test_train_severity_levels(cli: Cli, tmp_path: Path) -> None:
    data = _slice(tmp_path, 700)
    out = tmp_path / "sev.cfmodel"
    result = cli(
        "train",
        data,
        "--label-column",
        "severity",
        "--task",
        "severity",
        "--out",
        out,
        "--folds",
        "0",
    )
    assert result.code == 0, result.err
    assert "classes [0, 1, 2, 3, 4]" in result.out


def _two_levels(row: dict[str, str]) -> None:
    row["severity"] = "3" if row["label"] == "1" else "0"


def test_a_severity_model_of_two_levels_loads_and_scores(cli: Cli, tmp_path: Path) -> None:
    data = _slice(tmp_path, 300, levels=_two_levels)
    out = tmp_path / "sev2.cfmodel"
    args = ("train", data, "--label-column", "severity", "--task", "severity")
    result = cli(*args, "--out", out, "--folds", "0")
    assert result.code == 0, result.err
    assert "classes [0, 3]" in result.out
    model = load_model(out)
    worst = model.predict(model.featuriser.blocks("@acme charged twice, no refund, awful", -0.8))
    calm = model.predict(model.featuriser.blocks("@acme thanks, lovely service", 0.9))
    assert worst["_p3"] > calm["_p3"]
    assert abs(worst["_p0"] + worst["_p3"] - 1.0) < 1e-9


def _blank_second_text(row: dict[str, str]) -> None:
    if row["id"] == "3":
        row["text"] = "   "


def _all_complaints(row: dict[str, str]) -> None:
    row["label"] = "1"


@pytest.mark.parametrize(
    ("args", "changes", "message"),
    [
        (["--text-column", "tweet"], {}, "no column 'tweet' (columns: id, text, label"),
        (["--label-column", "lable"], {}, "no column 'lable'"),
        ([], {"blank": _blank_second_text}, "labelled.csv:3: column 'text' is empty"),
        ([], {"one": _all_complaints}, "every row has label 1 in column 'label'"),
        (["--task", "complaint", "--label-column", "severity"], {}, "is not one of 0, 1"),
    ],
)
def test_train_says_what_is_wrong_with_the_data(
    cli: Cli,
    tmp_path: Path,
    args: list[str],
    changes: dict[str, Callable[[dict[str, str]], None]],
    message: str,
) -> None:
    data = _slice(tmp_path, 120, **changes)
    result = cli("train", data, "--out", tmp_path / "m.cfmodel", *args)
    assert result.code == 1
    assert message in result.err, result.err
    assert "Traceback" not in result.err
    assert not (tmp_path / "m.cfmodel").exists()


def test_evaluate_prints_what_the_policy_would_have_done(cli: Cli, tmp_path: Path) -> None:
    data = _slice(tmp_path, 400)
    page = tmp_path / "report.html"
    result = cli(
        "evaluate",
        EXAMPLE_POLICY,
        data,
        "--severity-column",
        "severity",
        "--target-recall",
        "0.9",
        "--on",
        "severity>=3",
        "--html",
        page,
    )
    assert result.code == 0, result.err
    out = result.out
    assert "opened a case at respond 0.35: precision" in out
    assert "recall by severity" in out and "\n  4 " in out
    assert "by route" in out and "respond" in out
    assert "complaint_probable" in out and "lift" in out
    assert "<- policy" in out
    assert "suggested respond:" in out
    html = page.read_text()
    assert "<img" in html and "data:image/png;base64," in html
    as_json = cli("evaluate", EXAMPLE_POLICY, data, "--severity-column", "severity", "--json")
    record = json.loads(as_json.out)
    assert len(record["sweep"]) == 19
    opened = {r["threshold"]: r["opened"] for r in record["sweep"]}
    assert opened[0.05] >= opened[0.35] >= opened[0.95], "a higher threshold opens fewer cases"
    assert "trained on" not in result.err


def test_evaluate_says_when_the_data_is_what_a_model_learnt_from(cli: Cli, tmp_path: Path) -> None:
    data = _slice(tmp_path, 60)
    seen = data.rename(tmp_path / "train.csv")  # the shipped models name their training file
    result = cli("evaluate", EXAMPLE_POLICY, seen)
    assert result.code == 0, result.err
    assert (
        "note: classifier complaint was trained on a file named 'train.csv': on the texts a "
        "model learnt from, these numbers flatter the policy" in result.err
    )


def test_evaluate_usage_errors(cli: Cli, tmp_path: Path) -> None:
    data = _slice(tmp_path, 50)
    result = cli("evaluate", EXAMPLE_POLICY, data, "--target-recall", "0.9")
    assert result.code == 2 and "needs --severity-column" in result.err
    result = cli("evaluate", EXAMPLE_POLICY, data, "--threshold", "respnd")
    assert result.code == 1 and "no threshold 'respnd'" in result.err


@pytest.mark.heavy
def test_example_policy_quality_floor_cross_validated(cli: Cli) -> None:
    """`evaluate --folds 5` on X-CI: the models retrained in each fold, the whole example
    policy deciding the held-out fold as ingest decides it."""
    result = cli(
        "evaluate", EXAMPLE_POLICY, XCI, "--severity-column", "severity", "--folds", "5", "--json"
    )
    assert result.code == 0, result.err
    assert "flatter" not in result.err  # measured on texts the models did not learn from
    record = json.loads(result.out)
    best = max(row["f1"] for row in record["sweep"])
    shipped = next(row for row in record["sweep"] if row["threshold"] == 0.35)
    assert best >= 0.75, best
    assert shipped["severe_recall"] >= 0.90, shipped
    assert shipped["f1"] >= 0.72, shipped
    assert record["f1"] == shipped["f1"], "the policy's own threshold is the shipped one"


def test_evaluate_folds_says_what_it_needs(cli: Cli, tmp_path: Path) -> None:
    data = _slice(tmp_path, 60)
    result = cli("evaluate", EXAMPLE_POLICY, data, "--folds", "3")
    assert result.code == 1
    assert "classifier severity is a severity model: retraining it needs the severity" in (
        result.err
    )
    result = cli("evaluate", EXAMPLE_POLICY, data, "--severity-column", "severity", "--folds", "1")
    assert result.code == 1 and "--folds 1: use 2 to 60 folds" in result.err


def test_evaluate_folds_measures_on_texts_the_models_did_not_learn_from(
    cli: Cli, tmp_path: Path
) -> None:
    data = _slice(tmp_path, 300)
    args = ("evaluate", EXAMPLE_POLICY, data, "--severity-column", "severity", "--json")
    seen = json.loads(cli(*args).out)  # the shipped models learnt from these very tweets
    unseen = cli(*args, "--folds", "3")
    assert unseen.code == 0, unseen.err
    folded = json.loads(unseen.out)
    assert folded["examples"] == seen["examples"] == 300
    assert folded["f1"] < seen["f1"] - 0.05, (folded["f1"], seen["f1"])

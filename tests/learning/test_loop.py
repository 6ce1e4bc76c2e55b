"""The learning loop from the command line: export a brand's labels, train a candidate on the
built-in examples plus them, compare it with the live model on labels it never learnt from."""

from __future__ import annotations

import asyncio
import csv
import gzip
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complaintflow.learning.labels import Label
from complaintflow.rules.classifiers import load_model
from complaintflow.rules.sentiment import sentiment
from complaintflow.store import open_store
from tests.support.labels import PRAISE, Cli, brand_rows, write
from tests.support.paths import EXAMPLE_POLICY


def test_labels_exports_the_brands_decisions_oldest_first(cli: Cli, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"

    async def record() -> None:
        store = open_store(url)
        try:
            for n, (value, source) in enumerate([(1, "approve"), (0, "dismiss")]):
                await store.record_label(
                    Label(
                        "northwind",
                        "x",
                        f"{n}",
                        f"text, {n}",
                        value,
                        source,
                        "dana",
                        f"2026-11-30T10:0{2 - n}:00+00:00",
                        f"case-{n}",
                    )
                )
            await store.record_label(
                Label("other", "x", "9", "not ours", 1, "open", "ann", "2026-11-30T09:00:00+00:00")
            )
        finally:
            await store.close()

    asyncio.run(record())
    out = tmp_path / "labels.csv"
    result = cli("labels", "--policy", "northwind", "--out", out, "--database", url)
    assert result.code == 0, result.err
    assert result.out.strip() == f"wrote 2 labels of policy northwind to {out}"
    with out.open(encoding="utf-8", newline="") as handle:
        assert list(csv.reader(handle)) == [
            ["id", "text", "label", "source", "by", "time"],
            ["x:1", "text, 1", "0", "dismiss", "dana", "2026-11-30T10:01:00+00:00"],
            ["x:0", "text, 0", "1", "approve", "dana", "2026-11-30T10:02:00+00:00"],
        ]


def test_a_candidate_learns_the_brands_praise_and_is_compared_on_newer_labels(
    cli: Cli, tmp_path: Path
) -> None:
    labels = write(tmp_path / "labels.csv", brand_rows(300))
    out = tmp_path / "candidate.cfmodel"
    trained = cli("train", labels, "--base", "builtin:complaint", "--out", out)
    assert trained.code == 0, trained.err
    assert "1724 built-in examples (builtin:complaint) + 240 of the brand's labels" in trained.out
    assert "the best cross-validated F1" in trained.out
    severity = tmp_path / "severity.cfmodel"
    trained = cli(
        "train", labels, "--task", "severity", "--base", "builtin:severity", "--out", severity
    )
    assert trained.code == 0, trained.err
    assert "the brand's dismissals teach severity 0" in trained.out
    candidate = load_model(out)
    builtin = load_model(EXAMPLE_POLICY.parent / "complaintflow" / "models" / "complaint.cfmodel")
    praise = PRAISE.format(c="lilac")

    def probability(model: object) -> float:
        out = model.predict(model.featuriser.blocks(praise, sentiment(praise)))  # type: ignore[attr-defined]
        return float(out[""])

    assert probability(candidate) < 0.2 < probability(builtin), "the brand's praise is learnt"
    compared = cli("evaluate", EXAMPLE_POLICY, labels, "--candidate", out, "--candidate", severity)
    assert compared.code == 0, compared.err
    assert compared.out.startswith("held out  60 labels from ")  # the newest 20 %, unseen
    # The live policy opens a case for every praise; with both candidates, for none.
    assert "  precision      0.333      1.000   +0.667" in compared.out, compared.out
    assert "  opened/1000     1000        333     -667" in compared.out, compared.out
    assert compared.out.rstrip().endswith(
        "keep the live model: too few labels to judge on: 60, 100 needed"
    )


@pytest.mark.parametrize(
    ("rows", "fields", "message"),
    [
        (brand_rows(30), ["id", "label", "time"], "no column 'text' (columns: id, label, time)"),
        (
            [*brand_rows(29), {**brand_rows(1)[0], "text": "  "}],
            None,
            ":31: column 'text' is empty",
        ),
        (
            [*brand_rows(29), {**brand_rows(1)[0], "label": "complaint"}],
            None,
            ":31: label 'complaint' in column 'label' is not one of 0, 1",
        ),
        (
            [r for r in brand_rows(60) if r["label"] == "0"],
            None,
            "every row has label 0 in column 'label'",
        ),
    ],
    ids=["missing column", "empty text", "bad label", "one class"],
)
def test_a_bad_label_file_says_what_is_wrong_and_where(
    cli: Cli, tmp_path: Path, rows: list[dict[str, str]], fields: list[str] | None, message: str
) -> None:
    labels = write(tmp_path / "labels.csv", rows, fields)
    out = tmp_path / "candidate.cfmodel"
    result = cli("train", labels, "--base", "builtin:complaint", "--out", out)
    assert result.code == 1
    assert message in result.err, result.err
    assert "Traceback" not in result.err and not out.exists()


# Any text without digits that is not yes/no/true/false is no label (digits make numbers).
NOT_A_LABEL = st.text(
    st.characters(blacklist_categories=("Nd", "Cs", "Cc")), min_size=1, max_size=8
).filter(lambda t: t.strip().lower() not in {"true", "false", "yes", "no"})


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(bad=NOT_A_LABEL)
def test_any_label_that_is_not_a_yes_or_no_names_its_line(
    cli: Cli, tmp_path: Path, bad: str
) -> None:
    rows = brand_rows(12)
    rows[4]["label"] = bad
    labels = write(tmp_path / "labels.csv", rows)
    result = cli(
        "train",
        labels,
        "--base",
        "builtin:complaint",
        "--brand-weight",
        "4",
        "--out",
        tmp_path / "c.cfmodel",
    )
    assert result.code == 1
    assert f"{labels}:6: label " in result.err, result.err


def test_a_corrupt_candidate_or_one_of_another_version_is_refused(cli: Cli, tmp_path: Path) -> None:
    labels = write(tmp_path / "labels.csv", brand_rows(30))
    corrupt = tmp_path / "corrupt.cfmodel"
    corrupt.write_bytes(b"\x1f\x8b not really gzip")
    result = cli("evaluate", EXAMPLE_POLICY, labels, "--candidate", corrupt)
    assert result.code == 1 and result.err.startswith(
        "complaintflow evaluate: refused the candidate: "
    ), result.err
    builtin = EXAMPLE_POLICY.parent / "complaintflow" / "models" / "complaint.cfmodel"
    data = json.loads(gzip.decompress(builtin.read_bytes()))
    data["version"] = 99
    future = tmp_path / "future.cfmodel"
    future.write_bytes(gzip.compress(json.dumps(data).encode()))
    result = cli("evaluate", EXAMPLE_POLICY, labels, "--candidate", future)
    assert result.code == 1
    assert "is a version 99 model; this complaintflow reads version" in result.err

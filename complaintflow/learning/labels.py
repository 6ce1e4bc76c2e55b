"""Supervisors' decisions as labels: what one is, and the CSV `complaintflow labels` exports.

A label says whether a mention was a complaint (1) or not (0), who said so, when and by what
decision (`source`): approving or editing a reply, resolving the case, the customer's contact
after a handoff and opening a logged remark are positive; dismissing a case is negative.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from complaintflow.learning.training import Labelled, TrainingError, read_labelled

# What decided a label, and what it says: 1 a complaint, 0 not one.
SOURCES: dict[str, int] = {
    "approve": 1,
    "edit": 1,
    "resolve": 1,
    "contact": 1,
    "open": 1,
    "dismiss": 0,
}
COLUMNS = ("id", "text", "label", "source", "by", "time")
RECORD_LABEL = "complaintflow.record_label"  # the activity that writes one to the store


@dataclasses.dataclass(frozen=True)
class Label:
    """One decision about one mention, under one brand's policy (its name)."""

    policy: str
    platform: str
    mention_id: str
    text: str
    label: int
    source: str
    by: str
    time: str  # ISO 8601, UTC
    case_id: str = ""
    severity: int | None = None


def export_csv(labels: Iterable[Label], path: Path) -> int:
    """Write `labels` to `path` as `id,text,label,source,by,time` (oldest first); how many."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for item in labels:
        writer.writerow(
            (
                f"{item.platform}:{item.mention_id}",
                item.text,
                item.label,
                item.source,
                item.by,
                item.time,
            )
        )
        count += 1
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return count


@dataclasses.dataclass(frozen=True)
class LabelFile:
    """An exported label file: the labelled texts, and each row's time (for hold-outs)."""

    data: Labelled
    times: list[str]


def read_label_file(
    path: Path,
    *,
    task: str = "complaint",
    text_column: str = "text",
    label_column: str = "label",
    time_column: str = "time",
) -> LabelFile:
    """Read a label CSV (as `complaintflow labels` exports it); TrainingError says which
    column or row is wrong (a missing column, empty text, a bad label, only one class).
    Rows are ordered by `time_column` when the file has it (else kept in file order)."""
    columns = _header(path)
    data = read_labelled(
        path,
        text_column=text_column,
        label_column=label_column,
        task=task,
        id_column="id" if "id" in columns else None,
    )
    if time_column in columns:
        times = _column(path, time_column)
    else:
        times = [f"{i:012d}" for i in range(len(data.texts))]
    return LabelFile(data, times if len(times) == len(data.texts) else [""] * len(data.texts))


def severity_levels(path: Path, column: str = "severity") -> dict[str, int | None]:
    """Each row's severity (1 to 4) by id, None where the file gives none or another value."""
    levels: dict[str, int | None] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            raw = (row.get(column) or "").strip()
            level = int(raw) if raw in ("1", "2", "3", "4") else None
            levels[row.get("id") or str(number)] = level
    return levels


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle), [])


def _column(path: Path, name: str) -> list[str]:
    """One column of a CSV already read and checked by read_labelled."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [row.get(name) or "" for row in csv.DictReader(handle)]


def rows_of(labels: LabelFile, rows: Sequence[int]) -> Labelled:
    """The labelled rows `rows` of `labels`, in that order."""
    data = labels.data
    return Labelled(
        [data.texts[i] for i in rows],
        [data.labels[i] for i in rows],
        [data.ids[i] for i in rows],
    )


def split_by_time(labels: LabelFile, held_share: float) -> tuple[list[int], list[int]]:
    """The rows to learn from and the most recent `held_share` of them, kept to test on."""
    if not 0 <= held_share < 1:
        raise TrainingError(f"--holdout {held_share}: use a share from 0 to below 1")
    order = sorted(range(len(labels.times)), key=lambda i: (labels.times[i], i))
    cut = len(order) - round(len(order) * held_share)
    return order[:cut], order[cut:]


def after(labels: LabelFile, since: str) -> list[int]:
    """The rows labelled after `since` (all of them when `since` is empty), oldest first."""
    order = sorted(range(len(labels.times)), key=lambda i: (labels.times[i], i))
    return [i for i in order if labels.times[i] > since]

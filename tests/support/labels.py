"""A brand's labelled decisions as the tests write them: praise the built-in model reads as
complaints, and complaints, in the CSV `complaintflow labels` exports."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from tests.support.fixtures import CliResult

Cli = Callable[..., CliResult]
COLOURS = ["red", "teal", "sage", "ochre", "navy", "plum", "coral", "mint", "sand", "rust"]
# A brand whose customers rave about colours: praise the built-in model reads as complaints.
PRAISE = "@NorthwindCares obsessed with this {c} colour 🔥 wearing it every day"
COMPLAINT = "@NorthwindCares my {c} kettle arrived broken and nobody answers, I want a refund"


def brand_rows(n: int) -> list[dict[str, str]]:
    rows = []
    for i in range(n):
        colour = f"{COLOURS[i % len(COLOURS)]} {i}"
        complaint = i % 3 == 0
        rows.append(
            {
                "id": f"x:{i}",
                "text": (COMPLAINT if complaint else PRAISE).format(c=colour),
                "label": "1" if complaint else "0",
                "source": "approve" if complaint else "dismiss",
                "by": "dana",
                "time": f"2026-11-{1 + i // 100:02d}T10:{i % 60:02d}:{i % 59:02d}+00:00",
            }
        )
    return rows


def write(path: Path, rows: list[dict[str, str]], fields: list[str] | None = None) -> Path:
    fields = fields or ["id", "text", "label", "source", "by", "time"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path

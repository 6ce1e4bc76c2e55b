"""The numbers the brand cares about, from cases and the decision log: a table and a web page.

Response rate (complaints answered / received), time to the first public answer (median, p90)
against the SLA, how many moved offline, were resolved, had their complaint removed, and how
many throwaway remarks were only logged; per platform and route, and overall. Pure: the CLI
fetches the cases and the log. The page's charts are inline SVG drawn by matplotlib.
"""

import dataclasses
import html
import io
import statistics
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from complaintflow.workflows.messages import CaseState

ALL = "all"


@dataclasses.dataclass(frozen=True)
class Row:
    """One group's figures (platform and route, or `all`)."""

    platform: str
    route: str
    received: int
    answered: int
    first_answer_median_s: float | None
    first_answer_p90_s: float | None
    within_sla: int
    moved_offline: int
    resolved: int
    removed: int
    throwaway: int

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.received if self.received else None


def _seconds(start: str, end: str) -> float | None:
    try:
        return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    except ValueError:
        return None


def _p90(values: Sequence[float]) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def _row(platform: str, route: str, cases: list[CaseState], throwaway: int) -> Row:
    waits = []
    within = 0
    for case in cases:
        if case.first_response_at and case.posted_at:
            wait = _seconds(case.posted_at, case.first_response_at)
            if wait is not None:
                waits.append(wait)
                within += case.first_response_at <= case.sla_due or not case.sla_due
    return Row(
        platform=platform,
        route=route,
        received=len(cases),
        answered=len(waits),
        first_answer_median_s=statistics.median(waits) if waits else None,
        first_answer_p90_s=_p90(sorted(waits)),
        within_sla=within,
        moved_offline=sum(c.contacted for c in cases),
        resolved=sum(c.resolved for c in cases),
        removed=sum(any(e.what == "remove_public done" for e in c.audit) for c in cases),
        throwaway=throwaway,
    )


def summarise(cases: Iterable[CaseState], remarks: Iterable[dict[str, Any]]) -> list[Row]:
    """Rows per (platform, route), then per platform, then overall."""
    cases = list(cases)
    remarks = list(remarks)
    groups: dict[tuple[str, str], list[CaseState]] = {}
    for case in cases:
        groups.setdefault((case.platform, case.route), []).append(case)
    platforms = sorted({p for p, _ in groups} | {str(r.get("platform", "?")) for r in remarks})
    rows = [_row(p, r, groups[(p, r)], 0) for p, r in sorted(groups)]
    for platform in platforms:
        mine = [c for c in cases if c.platform == platform]
        logged = sum(1 for r in remarks if str(r.get("platform", "?")) == platform)
        rows.append(_row(platform, ALL, mine, logged))
    rows.append(_row(ALL, ALL, cases, len(remarks)))
    return rows


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


HEADER = (
    "platform",
    "route",
    "complaints",
    "answered",
    "first answer p50",
    "p90",
    "within SLA",
    "offline",
    "resolved",
    "removed",
    "throwaway",
)


def cells(row: Row) -> tuple[str, ...]:
    return (
        row.platform,
        row.route,
        str(row.received),
        _pct(row.answered, row.received),
        _duration(row.first_answer_median_s),
        _duration(row.first_answer_p90_s),
        _pct(row.within_sla, row.answered),
        _pct(row.moved_offline, row.received),
        _pct(row.resolved, row.received),
        str(row.removed),
        str(row.throwaway),
    )


def table(rows: Sequence[Row]) -> str:
    """The rows as an aligned terminal table."""
    lines = [HEADER, *(cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    out = [
        "  ".join(c.ljust(widths[i]) if i < 2 else c.rjust(widths[i]) for i, c in enumerate(line))
        for line in lines
    ]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def _bars(title: str, items: Sequence[tuple[str, float]], unit: str, limit: float) -> str:
    """A horizontal bar chart as inline SVG, drawn by matplotlib: text stays text, no scripts,
    nothing fetched; `limit` (when not 0) is a dashed line, such as the SLA."""
    # Imported here: only the HTML report draws, and matplotlib takes a moment to import.
    from matplotlib import rc_context
    from matplotlib.figure import Figure  # the object API: no pyplot, no GUI backend state

    labels = [label for label, _ in items]
    values = [value for _, value in items]
    figure = Figure(figsize=(6.0, 0.9 + 0.4 * max(1, len(items))), layout="constrained")
    axes = figure.subplots()
    bars = axes.barh(labels, values, color="#3b6ea8")
    axes.invert_yaxis()  # first platform on top, as in the table
    axes.bar_label(bars, labels=[f"{v:.1f}{unit}" for v in values], padding=3, fontsize=9)
    if limit:
        axes.axvline(limit, color="#c0392b", linestyle="--", linewidth=1)
    axes.set_xlim(0, 1.15 * max([*values, limit, 1e-9]))
    axes.set_title(title, loc="left", fontsize=11, fontweight="bold")
    axes.spines[["top", "right"]].set_visible(False)
    svg = io.StringIO()
    # Text as <text> (searchable, small), stable element ids, no creation date: the same
    # figures give the same page.
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "complaintflow"}):
        figure.savefig(svg, format="svg", metadata={"Date": None})
    drawn = svg.getvalue()
    return drawn[drawn.index("<svg") :]  # inline: no XML declaration or doctype


def page(rows: Sequence[Row], *, generated: str, sla_hours: float = 24.0) -> str:
    """A self-contained HTML report: the table and two charts."""
    per_platform = [r for r in rows if r.route == ALL and r.platform != ALL]
    rates = [(r.platform, 100 * (r.response_rate or 0.0)) for r in per_platform]
    waits = [(r.platform, (r.first_answer_median_s or 0.0) / 3600) for r in per_platform]
    head = "".join(f"<th>{html.escape(h)}</th>" for h in HEADER)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells(r)) + "</tr>" for r in rows
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>complaintflow report</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}
td:nth-child(-n+2),th:nth-child(-n+2){{text-align:left}}</style></head>
<body><h1>Public complaints: how we answered</h1><p>Generated {html.escape(generated)}.</p>
<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
<h2>Charts</h2>
{_bars("Response rate by platform", rates, "%", 100.0)}
{_bars("Median time to first public answer (h), SLA dashed", waits, "h", sla_hours)}
</body></html>
"""

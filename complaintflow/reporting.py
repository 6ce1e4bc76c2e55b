"""The numbers the brand cares about, from cases and the decision log: a table and a web page.

Response rate (complaints answered / received), time to the first public answer (median, p90)
against the SLA, how many moved offline, were resolved, had their complaint removed, and how
many throwaway remarks were only logged; per platform and route, and overall. After the
handoff: of the cases moved offline, how many customers got in touch, on which channel, how
soon, and how many never did (venting). Pure: the CLI fetches the cases and the log. The
page's charts are inline SVG drawn by matplotlib.
"""

import dataclasses
import html
import io
import re
import statistics
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from complaintflow.workflows.messages import CaseState, CaseStatus

if TYPE_CHECKING:
    from matplotlib.figure import Figure

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
    return _aligned(HEADER, [cells(r) for r in rows])


def _aligned(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """`rows` under `header`, the first two columns left-aligned, the others right."""
    lines = [tuple(header), *(tuple(r) for r in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
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
    return _svg(figure)


def _svg(figure: "Figure") -> str:
    """The figure as inline SVG: text as <text> (searchable, small), stable element ids, no
    creation date, so the same figures give the same page."""
    from matplotlib import rc_context

    svg = io.StringIO()
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


# -- over time: trends, backlog, who decided, spikes ------------------------------------------

DAY = timedelta(days=1)
WEEK = timedelta(days=7)
DEFAULT_UI = "http://localhost:8233"
# The audit entries a person makes, as the case words them (supervision.DECIDED and the
# resolve/close/route/escalate handlers), and the column each is counted in.
DECISION_KINDS = {
    "approved": "approved",
    "approved with edits": "edited",
    "rejected": "rejected",
    "marked resolved": "resolved",
    "case closed": "closed",
    "routed": "routed",
    "escalated": "escalated",
}
DECISION_COLUMNS = ("approved", "edited", "rejected", "resolved", "closed", "routed", "escalated")
_SINCE = re.compile(r"(\d{1,5})([hdw])")


def parse_since(text: str) -> timedelta:
    """`30d`, `12h` or `6w` as a duration; ValueError saying what is accepted otherwise."""
    found = _SINCE.fullmatch(text.strip())
    if not found or int(found[1]) == 0:
        raise ValueError(f"--since takes a number and h, d or w (e.g. 30d), got {text!r}")
    unit = {"h": timedelta(hours=1), "d": DAY, "w": WEEK}[found[2]]
    return int(found[1]) * unit


def _time(text: str) -> datetime | None:
    """An ISO 8601 time as an aware UTC datetime; None when empty or unreadable."""
    try:
        found = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)


def _did(case: CaseState, what: str) -> bool:
    return any(entry.what == what for entry in case.audit)


def dismissed(case: CaseState) -> bool:
    """Closed as not a complaint: its close reason (or a `dismissed` audit entry) says so."""
    return "dismiss" in case.closed_reason.lower() or any(
        entry.what.startswith("dismissed") for entry in case.audit
    )


@dataclasses.dataclass(frozen=True)
class Period:
    """The complaints received in one day or week, and what became of them since."""

    start: date
    received: int
    answered: int
    within_sla: int
    first_answer_p50_s: float | None
    first_answer_p90_s: float | None
    moved_offline: int  # the handoff step (a private message offering contact) was done
    contacted: int  # the customer got in touch offline
    resolved: int
    removed: int
    dismissed: int
    throwaway: int
    spike: bool  # a spike alert was open during the period


@dataclasses.dataclass(frozen=True)
class Waiting:
    """A case awaiting a supervisor's approval, with its link in the Web UI."""

    case_id: str
    step: str
    platform: str
    priority: str
    waiting_since: str
    age_s: float
    sla_due: str
    link: str


@dataclasses.dataclass(frozen=True)
class Spike:
    """A spike alert of a policy's complaints (from the decision store)."""

    policy: str
    started_at: str
    ended_at: str  # "" while it lasts
    complaints: int
    expected: float


@dataclasses.dataclass(frozen=True)
class Report:
    """Everything `complaintflow report` shows, as the page and `--json` carry it."""

    generated: str
    since: str
    period: str  # "day" or "week"
    sla_s: float | None  # the most common first-answer SLA of the cases
    rows: list[Row]
    periods: list[Period]
    backlog: list[Waiting]
    decisions: dict[str, dict[str, int]]  # supervisor -> kind -> count
    spikes: list[Spike]
    notes: list[str]
    contacts: "list[ContactRow]" = dataclasses.field(default_factory=list)  # after the handoff

    def as_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        for period in out["periods"]:
            period["start"] = period["start"].isoformat()
        return out


def period_start(when: datetime, period: str) -> date:
    """The day, or the Monday of the week, `when` falls in (UTC)."""
    day = when.astimezone(UTC).date()
    return day - timedelta(days=day.weekday()) if period == "week" else day


def periods_between(first: datetime, last: datetime, period: str) -> list[date]:
    """Every period from `first` to `last`, empty ones included (a gap is a finding)."""
    step = WEEK if period == "week" else DAY
    out, current, end = [], period_start(first, period), period_start(last, period)
    while current <= end:
        out.append(current)
        current += step
    return out


def _spike_covers(spikes: Sequence[Spike], start: date, length: timedelta, now: datetime) -> bool:
    begin = datetime.combine(start, datetime.min.time(), UTC)
    for spike in spikes:
        opened = _time(spike.started_at)
        ended = _time(spike.ended_at) or now
        if opened is not None and opened < begin + length and ended >= begin:
            return True
    return False


def trend(
    cases: Sequence[CaseState],
    remarks: Sequence[dict[str, Any]],
    spikes: Sequence[Spike],
    *,
    since: datetime,
    now: datetime,
    period: str,
) -> list[Period]:
    """Per period, the complaints received then (by the time of the complaint) and what
    became of them by `now`; throwaway remarks by the time they were decided."""
    received: dict[date, list[CaseState]] = {}
    for case in cases:
        posted = _time(case.posted_at)
        if posted is not None and posted >= since:
            received.setdefault(period_start(posted, period), []).append(case)
    logged: dict[date, int] = {}
    for remark in remarks:
        decided = _time(str(remark.get("decided_at", "")))
        if decided is not None and decided >= since:
            key = period_start(decided, period)
            logged[key] = logged.get(key, 0) + 1
    length = WEEK if period == "week" else DAY
    out = []
    for start in periods_between(since, now, period):
        group = received.get(start, [])
        row = _row("", "", group, 0)
        out.append(
            Period(
                start=start,
                received=row.received,
                answered=row.answered,
                within_sla=row.within_sla,
                first_answer_p50_s=row.first_answer_median_s,
                first_answer_p90_s=row.first_answer_p90_s,
                moved_offline=sum(_did(c, "handoff done") for c in group),
                contacted=sum(c.contacted for c in group),
                resolved=row.resolved,
                removed=row.removed,
                dismissed=sum(dismissed(c) for c in group),
                throwaway=logged.get(start, 0),
                spike=_spike_covers(spikes, start, length, now),
            )
        )
    return out


# -- after the handoff: did the customer get in touch? ----------------------------------------

# The audit entries of a handoff (steps.run: "<kind> done") and of its wait running out
# (waiting.await_contact: "no contact from the customer: close|escalate").
HANDOFF_DONE = "handoff done"
NO_CONTACT = "no contact from the customer"


@dataclasses.dataclass(frozen=True)
class ContactRow:
    """After the handoff, per platform and route (or `all`): the cases moved offline (their
    private message offering contact was sent), how many customers then got in touch, on which
    channel (each one's first contact), how soon (from the handoff to the first contact), how
    many never did (the wait ran out; `venting`: of those, the cases that closed for it, the
    others escalated as their playbook says), and how many are still awaited."""

    platform: str
    route: str
    moved_offline: int
    contacted: int
    channels: dict[str, int]
    first_contact_p50_s: float | None
    first_contact_p90_s: float | None
    never: int
    venting: int
    waiting: int

    @property
    def contact_rate(self) -> float | None:
        return self.contacted / self.moved_offline if self.moved_offline else None


def handoff_at(case: CaseState) -> datetime | None:
    """When the case's handoff message went out (its first), None if it never did."""
    for entry in case.audit:
        if entry.what == HANDOFF_DONE:
            return _time(entry.at)
    return None


def _contact_row(platform: str, route: str, cases: Sequence[CaseState]) -> ContactRow:
    offline = [(case, sent) for case in cases if (sent := handoff_at(case)) is not None]
    channels: dict[str, int] = {}
    delays: list[float] = []
    never = venting = waiting = 0
    for case, sent in offline:
        first = case.contacts[0] if case.contacts else None
        if first is not None:
            channels[first.channel] = channels.get(first.channel, 0) + 1
            came = _time(first.at)
            if came is not None:
                delays.append(max(0.0, (came - sent).total_seconds()))
        elif outcome := next((e.what for e in case.audit if e.what.startswith(NO_CONTACT)), ""):
            never += 1
            venting += outcome.endswith(": close")
        elif case.status is CaseStatus.AWAITING_CONTACT:
            waiting += 1
    delays.sort()
    return ContactRow(
        platform=platform,
        route=route,
        moved_offline=len(offline),
        contacted=sum(channels.values()),
        channels=dict(sorted(channels.items(), key=lambda item: (-item[1], item[0]))),
        first_contact_p50_s=statistics.median(delays) if delays else None,
        first_contact_p90_s=_p90(delays),
        never=never,
        venting=venting,
        waiting=waiting,
    )


def contact_rows(cases: Iterable[CaseState]) -> list[ContactRow]:
    """Per (platform, route) and per platform where a case moved offline, then overall."""
    cases = list(cases)
    groups: dict[tuple[str, str], list[CaseState]] = {}
    for case in cases:
        groups.setdefault((case.platform, case.route), []).append(case)
    rows = [_contact_row(p, r, groups[(p, r)]) for p, r in sorted(groups)]
    for platform in sorted({p for p, _ in groups}):
        rows.append(_contact_row(platform, ALL, [c for c in cases if c.platform == platform]))
    rows = [row for row in rows if row.moved_offline]
    return [*rows, _contact_row(ALL, ALL, cases)]


CONTACT_HEADER = (
    "platform",
    "route",
    "moved offline",
    "made contact",
    "channels",
    "first contact p50",
    "p90",
    "never",
    "closed as venting",
    "still waiting",
)


def contact_cells(row: ContactRow) -> tuple[str, ...]:
    made = f"{row.contacted} ({_pct(row.contacted, row.moved_offline)})"
    return (
        row.platform,
        row.route,
        str(row.moved_offline),
        made if row.moved_offline else "-",
        ", ".join(f"{channel} {n}" for channel, n in row.channels.items()) or "-",
        _duration(row.first_contact_p50_s),
        _duration(row.first_contact_p90_s),
        str(row.never),
        str(row.venting),
        str(row.waiting),
    )


def _never(row: ContactRow) -> str:
    escalated = row.never - row.venting
    return f"{row.venting} closed as venting" + (f", {escalated} escalated" if escalated else "")


def contact_table(rows: Sequence[ContactRow]) -> str:
    """The contact rows as an aligned terminal table."""
    return _aligned(CONTACT_HEADER, [contact_cells(r) for r in rows])


def contact_story(row: ContactRow) -> str:
    """The overall row in one sentence, as a person would tell it."""
    if not row.moved_offline:
        return "No case was moved offline: no handoff message went out in this period."
    channels = ", ".join(f"{n} by {channel}" for channel, n in row.channels.items())
    soon = (
        f"; the first contact came {_duration(row.first_contact_p50_s)} after the handoff "
        f"(median), {_duration(row.first_contact_p90_s)} at p90"
        if row.first_contact_p50_s is not None
        else ""
    )
    return (
        f"Of {row.moved_offline} cases moved offline, {row.contacted} customers got in touch "
        f"({_pct(row.contacted, row.moved_offline)}){': ' + channels if channels else ''}"
        f"{soon}. {row.never} never did ({_never(row)}); {row.waiting} still awaited."
    )


def case_link(ui: str, namespace: str, case_id: str) -> str:
    """The case's page in the Temporal Web UI."""
    base = ui.rstrip("/")
    return f"{base}/namespaces/{quote(namespace, safe='')}/workflows/{quote(case_id, safe='')}"


def backlog(cases: Iterable[CaseState], *, now: datetime, ui: str, namespace: str) -> list[Waiting]:
    """The cases awaiting approval now, oldest wait first."""
    out = []
    for case in cases:
        if case.status is not CaseStatus.AWAITING_APPROVAL or case.pending is None:
            continue
        since = _time(case.pending.requested_at) or _time(case.posted_at) or now
        out.append(
            Waiting(
                case_id=case.case_id,
                step=case.pending.step,
                platform=case.platform,
                priority=case.priority,
                waiting_since=since.isoformat(),
                age_s=max(0.0, (now - since).total_seconds()),
                sla_due=case.sla_due,
                link=case_link(ui, namespace, case.case_id),
            )
        )
    return sorted(out, key=lambda w: (-w.age_s, w.case_id))


def decisions_by_supervisor(
    cases: Iterable[CaseState], *, since: datetime
) -> dict[str, dict[str, int]]:
    """Who approved, edited, rejected, resolved, closed, routed or escalated, from the cases'
    audit trails (the `by` of each update: the dev UI has no login)."""
    out: dict[str, dict[str, int]] = {}
    for case in cases:
        for entry in case.audit:
            kind = DECISION_KINDS.get(entry.what)
            when = _time(entry.at)
            if kind is None or entry.who == "complaintflow" or when is None or when < since:
                continue
            mine = out.setdefault(entry.who, dict.fromkeys(DECISION_COLUMNS, 0))
            mine[kind] += 1
    return dict(sorted(out.items(), key=lambda item: (-sum(item[1].values()), item[0])))


def _common_sla(cases: Iterable[CaseState]) -> float | None:
    spans = []
    for case in cases:
        posted, due = _time(case.posted_at), _time(case.sla_due)
        if posted is not None and due is not None:
            spans.append(round((due - posted).total_seconds()))
    return float(statistics.mode(spans)) if spans else None


def build_report(
    cases: Sequence[CaseState],
    remarks: Sequence[dict[str, Any]],
    spikes: Sequence[Spike],
    *,
    now: datetime,
    since: timedelta,
    period: str | None = None,
    ui: str = DEFAULT_UI,
    namespace: str = "default",
) -> Report:
    """The whole report for the complaints received in the last `since`; the backlog is every
    case awaiting approval now, whenever it was received."""
    start = now - since
    period = period or ("week" if since > timedelta(days=62) else "day")
    recent = [c for c in cases if (_time(c.posted_at) or now) >= start]
    recent_remarks = [r for r in remarks if (_time(str(r.get("decided_at", ""))) or now) >= start]
    shown_spikes = [s for s in spikes if (_time(s.ended_at) or now) >= start]
    notes = []
    if not any(dismissed(c) for c in recent):
        notes.append(
            "dismissed: cases closed with a reason that says dismissed; none in this period"
        )
    if not any(_did(c, "handoff done") for c in recent):
        notes.append("moved offline: no handoff step has run in this period")
    return Report(
        generated=now.strftime("%Y-%m-%d %H:%M UTC"),
        since=f"{start.strftime('%Y-%m-%d %H:%M UTC')}",
        period=period,
        sla_s=_common_sla(recent),
        rows=summarise(recent, recent_remarks),
        periods=trend(recent, recent_remarks, shown_spikes, since=start, now=now, period=period),
        backlog=backlog(cases, now=now, ui=ui, namespace=namespace),
        decisions=decisions_by_supervisor(cases, since=start),
        spikes=shown_spikes,
        notes=notes,
        contacts=contact_rows(recent),
    )


# -- the over-time page ----------------------------------------------------------------------

AGE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("< 1 h", 3600.0),
    ("1-4 h", 4 * 3600.0),
    ("4-24 h", 86400.0),
    ("1-3 days", 3 * 86400.0),
    ("> 3 days", float("inf")),
)
OUTCOMES: tuple[tuple[str, str, str], ...] = (  # field, legend, colour
    ("received", "received", "#7f8c8d"),
    ("within_sla", "answered within SLA", "#3b6ea8"),
    ("moved_offline", "moved offline", "#8e44ad"),
    ("contacted", "contacted", "#16a085"),
    ("resolved", "resolved", "#27ae60"),
    ("removed", "removed", "#d35400"),
    ("dismissed", "dismissed", "#95a5a6"),
)


def _integer_ticks() -> Any:
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def _axis_labels(report: Report) -> tuple[list[str], str]:
    labels = [p.start.strftime("%m-%d") for p in report.periods]
    return labels, ("week starting (UTC)" if report.period == "week" else "day (UTC)")


def _time_figure(count: int) -> "Figure":
    from matplotlib.figure import Figure

    return Figure(figsize=(max(8.0, min(12.0, 3.0 + 0.3 * count)), 3.2), layout="constrained")


def _tidy(axes: Any, title: str, xlabel: str, ylabel: str, labels: Sequence[str]) -> None:
    axes.set_title(title, loc="left", fontsize=11, fontweight="bold")
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_xticks(range(len(labels)), labels, rotation=90 if len(labels) > 10 else 0)
    axes.set_xlim(-0.5, len(labels) - 0.5)  # the same days line up across the charts
    if ylabel != "hours":
        axes.yaxis.set_major_locator(_integer_ticks())
    axes.spines[["top", "right"]].set_visible(False)
    # Beside the plot, never over the lines.
    axes.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def volume_chart(report: Report) -> str:
    """Complaints received per period, periods with a spike alert in red."""
    labels, xlabel = _axis_labels(report)
    figure = _time_figure(len(labels))
    axes = figure.subplots()
    colours = ["#c0392b" if p.spike else "#3b6ea8" for p in report.periods]
    bars = axes.bar(range(len(labels)), [p.received for p in report.periods], color=colours)
    axes.plot(
        range(len(labels)),
        [p.throwaway for p in report.periods],
        color="#7f8c8d",
        marker=".",
        linewidth=1,
        label="throwaway remarks (logged only)",
    )
    spiking = [bar for bar, p in zip(bars, report.periods, strict=True) if p.spike]
    if spiking:
        spiking[0].set_label("spike alert open")  # one legend entry, in the bars' red
    _tidy(axes, f"Complaints received per {report.period}", xlabel, "complaints", labels)
    return _svg(figure)


def first_answer_chart(report: Report) -> str:
    """First-answer time p50 and p90 per period (hours), the SLA as a dashed line."""
    labels, xlabel = _axis_labels(report)
    figure = _time_figure(len(labels))
    axes = figure.subplots()
    hours = 1 / 3600
    for field, name, colour in (
        ("first_answer_p50_s", "p50", "#3b6ea8"),
        ("first_answer_p90_s", "p90", "#e67e22"),
    ):
        values = [getattr(p, field) for p in report.periods]
        axes.plot(
            range(len(labels)),
            [v * hours if v is not None else float("nan") for v in values],
            marker="o",
            color=colour,
            label=name,
        )
    if report.sla_s:
        axes.axhline(report.sla_s * hours, color="#c0392b", linestyle="--", linewidth=1)
        axes.plot([], [], color="#c0392b", linestyle="--", label=f"SLA {_duration(report.sla_s)}")
    axes.set_ylim(bottom=0)
    _tidy(axes, "Time to first public answer against the SLA", xlabel, "hours", labels)
    return _svg(figure)


def outcomes_chart(report: Report) -> str:
    """What became of each period's complaints: one line per outcome."""
    labels, xlabel = _axis_labels(report)
    figure = _time_figure(len(labels))
    axes = figure.subplots()
    for field, name, colour in OUTCOMES:
        axes.plot(
            range(len(labels)),
            [getattr(p, field) for p in report.periods],
            marker=".",
            color=colour,
            label=name,
            linewidth=2 if field == "received" else 1.2,
        )
    axes.set_ylim(bottom=0)
    _tidy(axes, f"What became of each {report.period}'s complaints", xlabel, "complaints", labels)
    return _svg(figure)


def age_buckets(backlog: Sequence[Waiting]) -> list[tuple[str, int]]:
    counts = dict.fromkeys((name for name, _ in AGE_BUCKETS), 0)
    for waiting in backlog:
        name = next(name for name, limit in AGE_BUCKETS if waiting.age_s < limit)
        counts[name] += 1
    return list(counts.items())


def backlog_chart(report: Report) -> str:
    """Cases awaiting approval by how long they have waited."""
    from matplotlib.figure import Figure

    buckets = age_buckets(report.backlog)
    figure = Figure(figsize=(6.0, 2.8), layout="constrained")
    axes = figure.subplots()
    bars = axes.bar([name for name, _ in buckets], [n for _, n in buckets], color="#e67e22")
    axes.bar_label(bars, padding=2, fontsize=9)
    axes.set_title("Cases awaiting approval, by age", loc="left", fontsize=11, fontweight="bold")
    axes.set_xlabel("waiting for")
    axes.set_ylabel("cases")
    axes.yaxis.set_major_locator(_integer_ticks())
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def decisions_chart(report: Report) -> str:
    """Decisions per supervisor, stacked by kind."""
    from matplotlib.figure import Figure

    people = list(report.decisions)[:20]
    figure = Figure(figsize=(6.0, 1.4 + 0.35 * max(1, len(people))), layout="constrained")
    axes = figure.subplots()
    left = [0] * len(people)
    palette = ("#3b6ea8", "#8e44ad", "#c0392b", "#27ae60", "#7f8c8d", "#16a085", "#e67e22")
    for kind, colour in zip(DECISION_COLUMNS, palette, strict=True):
        counts = [report.decisions[p][kind] for p in people]
        if any(counts):
            axes.barh(people, counts, left=left, color=colour, label=kind)
            left = [a + b for a, b in zip(left, counts, strict=True)]
    axes.invert_yaxis()
    axes.set_title("Decisions by supervisor", loc="left", fontsize=11, fontweight="bold")
    axes.set_xlabel("decisions")
    if people:
        axes.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


CONTACT_COLOURS = ("#16a085", "#3b6ea8", "#8e44ad", "#d35400", "#27ae60", "#7f8c8d")


def contact_chart(report: Report) -> str:
    """Per platform, the cases moved offline: customers who got in touch (by channel), who
    never did (venting) and who are still awaited, as stacked bars."""
    from matplotlib.figure import Figure

    rows = [r for r in report.contacts if r.route == ALL and r.platform != ALL]
    platforms = [r.platform for r in rows]
    figure = Figure(figsize=(7.0, 1.4 + 0.4 * max(1, len(rows))), layout="constrained")
    axes = figure.subplots()
    channels = sorted({c for r in rows for c in r.channels})
    parts = [
        *((f"contact by {c}", [r.channels.get(c, 0) for r in rows]) for c in channels),
        ("closed as venting", [r.venting for r in rows]),
        ("never, escalated", [r.never - r.venting for r in rows]),
        ("still waiting", [r.waiting for r in rows]),
    ]
    colours = [*CONTACT_COLOURS[: len(channels)], "#c0392b", "#e67e22", "#bdc3c7"]
    left = [0] * len(rows)
    for (label, counts), colour in zip(parts, colours, strict=False):
        if any(counts):
            axes.barh(platforms, counts, left=left, color=colour, label=label)
            left = [a + b for a, b in zip(left, counts, strict=True)]
    axes.invert_yaxis()
    axes.set_title(
        "After the handoff: customers who got in touch", loc="left", fontsize=11, fontweight="bold"
    )
    axes.set_xlabel("cases moved offline")
    axes.xaxis.set_major_locator(_integer_ticks())
    if rows:
        axes.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def _contact_section(report: Report) -> str:
    e = html.escape
    overall = report.contacts[-1] if report.contacts else _contact_row(ALL, ALL, [])
    rows = [[e(c) for c in contact_cells(r)] for r in report.contacts]
    table_html = _html_table(CONTACT_HEADER, rows) if overall.moved_offline else ""
    chart = contact_chart(report) if overall.moved_offline else ""
    return f"""<h2>After the handoff: did the customer get in touch?</h2>
<p id="contact-story">{e(contact_story(overall))}</p>
{chart}
{table_html}"""


def _html_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _backlog_rows(report: Report) -> list[list[str]]:
    return [
        [
            f'<a href="{html.escape(w.link)}">{html.escape(w.case_id)}</a>',
            html.escape(w.step),
            html.escape(w.platform),
            html.escape(w.priority),
            html.escape(_duration(w.age_s)),
            html.escape(w.sla_due[:16].replace("T", " ") or "-"),
        ]
        for w in report.backlog
    ]


def report_page(report: Report) -> str:
    """The self-contained HTML page: trends, backlog (linked to the Web UI), decisions, spikes."""
    e = html.escape
    totals = [[e(c) for c in cells(r)] for r in report.rows]
    decisions = [
        [e(who), *(str(counts[k]) for k in DECISION_COLUMNS)]
        for who, counts in report.decisions.items()
    ]
    spikes = [
        [
            e(s.policy),
            e(s.started_at[:16].replace("T", " ")),
            e(s.ended_at[:16].replace("T", " ") or "still open"),
            str(s.complaints),
            f"{s.expected:.1f}",
        ]
        for s in report.spikes
    ]
    notes = "".join(f"<li>{e(n)}</li>" for n in report.notes)
    empty = "<p>None.</p>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>complaintflow report</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:80em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}
td:first-child,th:first-child{{text-align:left}}svg{{max-width:100%;height:auto}}</style></head>
<body><h1>Public complaints: how we answered</h1>
<p>Complaints received since {e(report.since)}, per {e(report.period)}; generated
{e(report.generated)}. Each {e(report.period)} counts the complaints received then and what
became of them since.</p>
<h2>Over time</h2>
{volume_chart(report)}
{first_answer_chart(report)}
{outcomes_chart(report)}
<h2>Backlog: awaiting approval now ({len(report.backlog)}), oldest first</h2>
{backlog_chart(report)}
{
        _html_table(
            ("case", "step", "platform", "priority", "waiting", "first answer due"),
            _backlog_rows(report),
        )
        if report.backlog
        else empty
    }
<h2>Decisions by supervisor</h2>
{decisions_chart(report) if report.decisions else empty}
{_html_table(("supervisor", *DECISION_COLUMNS), decisions) if decisions else ""}
{_contact_section(report)}
<h2>Spike alerts</h2>
{
        _html_table(("policy", "started (UTC)", "ended", "complaints", "usual"), spikes)
        if spikes
        else empty
    }
<h2>Totals by platform and route</h2>
{_html_table(HEADER, totals)}
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
</body></html>
"""


# -- the backlog for Prometheus (node_exporter's textfile collector) --------------------------

BACKLOG_CASES = "complaintflow_backlog_cases"
BACKLOG_OLDEST = "complaintflow_backlog_oldest_seconds"
BACKLOG_PAST_SLA = "complaintflow_backlog_past_sla_cases"
REPORT_TIME = "complaintflow_report_generated_timestamp_seconds"
BACKLOG_METRICS = (BACKLOG_CASES, BACKLOG_OLDEST, BACKLOG_PAST_SLA, REPORT_TIME)


def write_backlog_metrics(report: Report, path: Path, *, now: datetime) -> None:
    """The backlog as Prometheus gauges in `path`, written whole (temporary file, rename), for
    node_exporter's textfile collector: run `report --prometheus-textfile` every few minutes
    and alert on approvals waiting past the SLA. Nothing else exports it: visibility holds it."""
    from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

    registry = CollectorRegistry()
    cases = Gauge(BACKLOG_CASES, "Cases awaiting approval now", ["priority"], registry=registry)
    for waiting in report.backlog:
        cases.labels(priority=waiting.priority or "normal").inc()
    Gauge(BACKLOG_OLDEST, "How long the oldest approval has waited", registry=registry).set(
        report.backlog[0].age_s if report.backlog else 0.0
    )
    late = sum((due := _time(w.sla_due)) is not None and due < now for w in report.backlog)
    Gauge(
        BACKLOG_PAST_SLA,
        "Cases awaiting approval whose first public answer is past its SLA",
        registry=registry,
    ).set(late)
    Gauge(REPORT_TIME, "When the report last ran", registry=registry).set(now.timestamp())
    write_to_textfile(str(path), registry)

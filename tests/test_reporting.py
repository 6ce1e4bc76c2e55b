"""The report's figures, from case states and the decision log."""

import re

from complaintflow.reporting import ALL, page, summarise, table
from complaintflow.workflows.messages import AuditEntry, CaseState, CaseStatus


def case(
    platform: str,
    route: str,
    *,
    answered_after_s: int | None,
    contacted: bool = False,
    resolved: bool = False,
    removed: bool = False,
) -> CaseState:
    posted = "2026-11-20T10:00:00+00:00"
    first = ""
    if answered_after_s is not None:
        hours, minutes = 10 + answered_after_s // 3600, answered_after_s % 3600 // 60
        first = f"2026-11-20T{hours:02d}:{minutes:02d}:00+00:00"
    audit = [AuditEntry(first, "complaintflow", "remove_public done")] if removed else []
    return CaseState(
        case_id=f"c-{platform}-{answered_after_s}",
        status=CaseStatus.CLOSED,
        platform=platform,
        thread_id="t",
        author="a",
        score=0.5,
        route=route,
        playbook="standard",
        policy="p",
        priority="normal",
        posted_at=posted,
        sla_due="2026-11-20T11:00:00+00:00",
        first_response_at=first,
        contacted=contacted,
        resolved=resolved,
        audit=audit,
    )


def test_figures_per_platform_route_and_overall() -> None:
    cases = [
        case("x", "respond", answered_after_s=600, contacted=True, resolved=True, removed=True),
        case("x", "respond", answered_after_s=7200),
        case("x", "escalated", answered_after_s=None),
        case("facebook", "respond", answered_after_s=1800, contacted=True),
    ]
    remarks = [
        {"id": "9", "platform": "x"},
        {"id": "10", "platform": "x"},
        {"id": "11", "platform": "instagram"},
    ]
    rows = {(r.platform, r.route): r for r in summarise(cases, remarks)}
    x = rows[("x", ALL)]
    assert (
        x.received,
        x.answered,
        x.within_sla,
        x.moved_offline,
        x.resolved,
        x.removed,
        x.throwaway,
    ) == (3, 2, 1, 1, 1, 1, 2)
    assert x.first_answer_median_s == 3900 and x.response_rate == 2 / 3
    assert rows[("instagram", ALL)].throwaway == 1 and rows[("instagram", ALL)].received == 0
    overall = rows[(ALL, ALL)]
    assert (overall.received, overall.answered, overall.throwaway) == (4, 3, 3)
    assert overall.first_answer_p90_s is not None and overall.first_answer_p90_s >= 1800
    text = table(list(rows.values()))
    assert text.splitlines()[0].split()[:3] == ["platform", "route", "complaints"]
    line = next(ln for ln in text.splitlines() if ln.startswith("x ") and " all " in ln)
    assert line.split()[2:5] == ["3", "67%", "65m"]


def test_page_is_self_contained() -> None:
    rows = summarise([case("x", "respond", answered_after_s=600)], [])
    html = page(rows, generated="now")
    assert "<svg" in html and "Response rate by platform" in html
    # Nothing to fetch: the charts refer only to their own parts (href="#id").
    assert "<script" not in html and not re.search(r'(?:src|href)="(?!#)', html)


def test_charts_show_each_platforms_figures() -> None:
    cases = [
        case("x", "respond", answered_after_s=600),
        case("x", "respond", answered_after_s=None),
        case("facebook", "respond", answered_after_s=5400),
    ]
    html = page(summarise(cases, []), generated="now", sla_hours=24.0)
    charts = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(charts) == 2
    rates, waits = charts
    assert "Response rate by platform" in rates and "Median time to first" in waits
    for chart in charts:
        assert ">x<" in chart and ">facebook<" in chart
    assert "50.0%" in rates and "100.0%" in rates
    assert "0.2h" in waits and "1.5h" in waits

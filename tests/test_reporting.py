"""The report's figures, from case states and the decision log."""

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from complaintflow.reporting import (
    ALL,
    Spike,
    age_buckets,
    build_report,
    contact_rows,
    contact_story,
    contact_table,
    page,
    parse_since,
    summarise,
    table,
    write_backlog_metrics,
)
from complaintflow.workflows.messages import (
    AuditEntry,
    CaseState,
    CaseStatus,
    ContactRecord,
    PendingApproval,
)


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


# -- over time ----------------------------------------------------------------------------------

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def dated(
    case_id: str,
    posted: datetime,
    *,
    answered_after: timedelta | None = None,
    status: CaseStatus = CaseStatus.CLOSED,
    audit: Sequence[AuditEntry] = (),
    contacted: bool = False,
    resolved: bool = False,
    closed_reason: str = "",
    pending_since: datetime | None = None,
) -> CaseState:
    pending = None
    if pending_since is not None:
        pending = PendingApproval(
            "reply_acknowledge", "reply", "Sorry", pending_since.isoformat(), ""
        )
    return CaseState(
        case_id=case_id,
        status=status,
        platform="x",
        thread_id="t",
        author="a",
        score=0.5,
        route="respond",
        playbook="standard",
        policy="p",
        priority="normal",
        pending=pending,
        posted_at=posted.isoformat(),
        sla_due=(posted + timedelta(hours=2)).isoformat(),
        first_response_at=(posted + answered_after).isoformat() if answered_after else "",
        contacted=contacted,
        resolved=resolved,
        closed_reason=closed_reason,
        audit=list(audit),
    )


def test_each_day_counts_its_complaints_and_what_became_of_them() -> None:
    day1, day3 = datetime(2026, 11, 25, 9, tzinfo=UTC), datetime(2026, 11, 27, 8, tzinfo=UTC)
    offline = AuditEntry(day1.isoformat(), "complaintflow", "handoff done", "handoff")
    cases = [
        dated("a", day1, answered_after=timedelta(hours=1), audit=[offline], contacted=True),
        dated("b", day1, answered_after=timedelta(hours=3), resolved=True),
        dated("c", day1, closed_reason="dismissed: not a complaint"),
        dated("d", day3, answered_after=timedelta(minutes=30)),
        dated("old", datetime(2026, 11, 1, tzinfo=UTC), answered_after=timedelta(hours=1)),
    ]
    remarks = [{"platform": "x", "decided_at": day3.isoformat()}, {"platform": "x"}]
    report = build_report(cases, remarks, [], now=NOW, since=timedelta(days=3))
    days = {p.start.isoformat(): p for p in report.periods}
    assert list(days) == ["2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"]
    first = days["2026-11-25"]
    assert (first.received, first.answered, first.within_sla) == (3, 2, 1)
    assert (first.moved_offline, first.contacted, first.resolved, first.dismissed) == (1, 1, 1, 1)
    assert first.first_answer_p50_s == 7200
    assert days["2026-11-26"].received == 0, "an empty day is shown, not skipped"
    assert (days["2026-11-27"].received, days["2026-11-27"].throwaway) == (1, 1)
    assert report.sla_s == 7200
    overall = next(r for r in report.rows if r.platform == ALL)
    assert overall.received == 4, "a complaint received before --since is left out"


def test_backlog_is_oldest_first_with_links_to_the_web_ui() -> None:
    waiting = CaseStatus.AWAITING_APPROVAL
    cases = [
        dated("case-x-1@acme", NOW, status=waiting, pending_since=NOW - timedelta(hours=2)),
        dated("case-x-2@acme", NOW, status=waiting, pending_since=NOW - timedelta(days=2)),
        dated("case-x-3@acme", NOW, status=CaseStatus.AWAITING_CONTACT),
    ]
    report = build_report(
        cases, [], [], now=NOW, since=timedelta(days=1), ui="https://ui.example/", namespace="ns"
    )
    assert [w.case_id for w in report.backlog] == ["case-x-2@acme", "case-x-1@acme"]
    assert report.backlog[0].link == "https://ui.example/namespaces/ns/workflows/case-x-2%40acme"
    assert report.backlog[0].age_s == 2 * 86400
    assert age_buckets(report.backlog) == [
        ("< 1 h", 0),
        ("1-4 h", 1),
        ("4-24 h", 0),
        ("1-3 days", 1),
        ("> 3 days", 0),
    ]


def test_decisions_are_counted_per_supervisor_from_the_audit_trail() -> None:
    at = (NOW - timedelta(hours=1)).isoformat()
    audit = [
        AuditEntry(at, "complaintflow", "approval requested", "reply_acknowledge"),
        AuditEntry(at, "dana", "approved", "reply_acknowledge"),
        AuditEntry(at, "lee", "approved with edits", "remove_public"),
        AuditEntry(at, "dana", "marked resolved"),
        AuditEntry(at, "complaintflow", "case closed", detail="resolved"),
        AuditEntry((NOW - timedelta(days=9)).isoformat(), "old", "rejected", "reply"),
    ]
    report = build_report(
        [dated("a", NOW - timedelta(hours=2), audit=audit)], [], [], now=NOW, since=timedelta(1)
    )
    assert list(report.decisions) == ["dana", "lee"], "busiest first; old ones and the case's own"
    assert report.decisions["dana"]["approved"] == 1 and report.decisions["dana"]["resolved"] == 1
    assert report.decisions["lee"]["edited"] == 1


def test_a_spike_marks_the_days_it_was_open() -> None:
    spike = Spike("p@v1", "2026-11-25T23:00:00+00:00", "2026-11-26T01:00:00+00:00", 40, 3.0)
    report = build_report([], [], [spike], now=NOW, since=timedelta(days=3))
    assert [p.spike for p in report.periods] == [False, True, True, False]
    assert report.as_json()["spikes"][0]["complaints"] == 40
    assert json.loads(json.dumps(report.as_json()))["periods"][0]["start"] == "2026-11-24"


@given(st.integers(1, 99_999), st.sampled_from("hdw"))
def test_since_reads_any_count_of_hours_days_or_weeks(count: int, unit: str) -> None:
    found = parse_since(f"{count}{unit}")
    assert found == count * {"h": timedelta(hours=1), "d": timedelta(1), "w": timedelta(7)}[unit]


@given(st.text(max_size=12))
def test_since_refuses_anything_else_saying_what_it_takes(text: str) -> None:
    found = re.fullmatch(r"(\d{1,5})[hdw]", text.strip())
    if found and int(found[1]) > 0:
        assert parse_since(text) > timedelta(0)
    else:
        with pytest.raises(ValueError, match=r"h, d or w \(e\.g\. 30d\)"):
            parse_since(text)


def test_week_periods_start_on_mondays() -> None:
    report = build_report(
        [dated("a", datetime(2026, 11, 26, tzinfo=UTC), answered_after=timedelta(hours=1))],
        [],
        [],
        now=NOW,
        since=timedelta(days=20),
        period="week",
    )
    assert [p.start.weekday() for p in report.periods] == [0, 0, 0, 0]
    assert sum(p.received for p in report.periods) == 1


def test_backlog_gauges_count_approvals_past_their_sla(tmp_path: Path) -> None:
    waiting = CaseStatus.AWAITING_APPROVAL
    late = dated("late", NOW - timedelta(hours=5), status=waiting, pending_since=NOW)
    fresh = dated("fresh", NOW - timedelta(minutes=30), status=waiting, pending_since=NOW)
    report = build_report([late, fresh], [], [], now=NOW, since=timedelta(days=1))
    path = tmp_path / "complaintflow.prom"
    write_backlog_metrics(report, path, now=NOW)
    found = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(path.read_text())
        for s in family.samples
    }
    assert found[("complaintflow_backlog_past_sla_cases", ())] == 1, "the SLA was 2h after posting"
    assert found[("complaintflow_backlog_cases", (("priority", "normal"),))] == 2
    assert found[("complaintflow_report_generated_timestamp_seconds", ())] == NOW.timestamp()


def after_handoff(
    platform: str,
    route: str,
    n: int,
    *,
    contact: tuple[str, str] | None = None,
    never: str = "",
    waiting: bool = False,
    moved: bool = True,
) -> CaseState:
    """A case whose handoff message went out at 10:00 (`moved`), then: a first contact on
    `contact` (channel, time), the wait running out (`never`: what the case did then, close
    or escalate), or still waiting."""
    handoff = "2026-11-20T10:00:00+00:00"
    audit = [AuditEntry(handoff, "complaintflow", "handoff done", "handoff")] if moved else []
    if never:
        what = f"no contact from the customer: {never}"
        audit.append(AuditEntry("2026-11-23T10:00:00+00:00", "complaintflow", what, "handoff"))
    contacts = [ContactRecord(contact[0], contact[1], "customer", "hi")] if contact else []
    return CaseState(
        case_id=f"c-{platform}-{n}",
        status=CaseStatus.AWAITING_CONTACT if waiting else CaseStatus.CLOSED,
        platform=platform,
        thread_id=f"t{n}",
        author="a",
        score=0.5,
        route=route,
        playbook="standard",
        policy="p",
        priority="normal",
        posted_at="2026-11-20T09:00:00+00:00",
        contacted=bool(contacts),
        contacts=contacts,
        audit=audit,
    )


class TestAfterTheHandoff:
    CASES = (
        after_handoff("x", "respond", 1, contact=("dm", "2026-11-20T10:05:00+00:00")),
        after_handoff("x", "respond", 2, contact=("email", "2026-11-20T11:00:00+00:00")),
        after_handoff("x", "respond", 3, never="close"),
        after_handoff("facebook", "respond", 4, contact=("dm", "2026-11-20T10:20:00+00:00")),
        after_handoff("instagram", "respond", 5, waiting=True),
        after_handoff("google_business", "review", 6, moved=False),
        after_handoff("x", "escalated", 7, never="escalate"),
    )

    def test_the_json_counts_contacts_channels_delays_and_venting(self) -> None:
        """Of the cases moved offline: who got in touch, how, how soon; who never did."""
        now = datetime(2026, 11, 24, tzinfo=UTC)
        report = build_report(list(self.CASES), [], [], now=now, since=timedelta(days=7))
        rows = {(r["platform"], r["route"]): r for r in report.as_json()["contacts"]}
        assert list(rows) == [
            ("facebook", "respond"),
            ("instagram", "respond"),
            ("x", "escalated"),
            ("x", "respond"),
            ("facebook", ALL),
            ("instagram", ALL),
            ("x", ALL),
            (ALL, ALL),
        ], "groups with no case moved offline (google_business) are left out, overall last"
        overall = rows[(ALL, ALL)]
        assert {k: v for k, v in overall.items() if k not in ("platform", "route")} == {
            "moved_offline": 6,
            "contacted": 3,
            "channels": {"dm": 2, "email": 1},
            "first_contact_p50_s": 1200.0,
            "first_contact_p90_s": 3120.0,  # 1200 + 0.8 * (3600 - 1200)
            "never": 2,
            "venting": 1,
            "waiting": 1,
        }
        x = rows[("x", ALL)]
        assert (x["moved_offline"], x["contacted"], x["never"], x["venting"]) == (4, 2, 2, 1)
        assert x["channels"] == {"dm": 1, "email": 1} and x["first_contact_p50_s"] == 1950.0
        assert rows[("instagram", ALL)]["waiting"] == 1
        assert rows[("instagram", ALL)]["first_contact_p50_s"] is None
        assert json.loads(json.dumps(report.as_json()))["contacts"][-1] == overall

    def test_the_terminal_tells_the_story(self) -> None:
        rows = contact_rows(self.CASES)
        assert contact_story(rows[-1]) == (
            "Of 6 cases moved offline, 3 customers got in touch (50%): 2 by dm, 1 by email; "
            "the first contact came 20m after the handoff (median), 52m at p90. 2 never did "
            "(1 closed as venting, 1 escalated); 1 still awaited."
        )
        line = next(ln for ln in contact_table(rows).splitlines() if ln.startswith("all "))
        assert line.split()[2:] == [
            "6",
            "3",
            "(50%)",
            "dm",
            "2,",
            "email",
            "1",
            "20m",
            "52m",
            "2",
            "1",
            "1",
        ]

    def test_no_handoff_says_so(self) -> None:
        [overall] = contact_rows([after_handoff("x", "respond", 7, moved=False)])
        assert overall.moved_offline == 0
        assert contact_story(overall).startswith("No case was moved offline")

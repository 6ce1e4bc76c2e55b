"""The report's section on what happened after the handoff, as a person sees it in Chromium:
the sentence telling it, the chart by platform (contact by channel, venting, still waiting)
and the table per platform and route. Built from a seeded set of cases (the week-long
simulation in test_report_page.py covers the rest of the page); opened in Debian's chromium
via Playwright, a screenshot in artifacts/report/ (git-ignored)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from complaintflow.reporting import build_report, report_page
from tests.test_reporting import after_handoff

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "report"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
HEADING = "After the handoff: did the customer get in touch?"


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")
async def test_the_contact_section_reads_right_in_a_browser(tmp_path: Path) -> None:
    cases = [
        after_handoff("x", "respond", 1, contact=("dm", "2026-11-20T10:05:00+00:00")),
        after_handoff("x", "respond", 2, contact=("email", "2026-11-20T11:00:00+00:00")),
        after_handoff("x", "respond", 3, never="close"),
        after_handoff("facebook", "respond", 4, contact=("dm", "2026-11-20T10:20:00+00:00")),
        after_handoff("instagram", "respond", 5, waiting=True),
        after_handoff("instagram", "escalated", 6, never="escalate"),
    ]
    now = datetime(2026, 11, 24, tzinfo=UTC)
    report = build_report(cases, [], [], now=now, since=timedelta(days=7))
    page_file = tmp_path / "report.html"
    page_file.write_text(report_page(report), encoding="utf-8")

    from playwright.async_api import async_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = await browser.new_page(viewport={"width": 1100, "height": 900})
        await page.goto(page_file.as_uri())
        heading = page.get_by_role("heading", name=HEADING)
        await heading.evaluate("element => element.scrollIntoView()")
        assert await heading.is_visible()
        story = await page.locator("#contact-story").inner_text()
        assert story == (
            "Of 6 cases moved offline, 3 customers got in touch (50%): 2 by dm, 1 by email; "
            "the first contact came 20m after the handoff (median), 52m at p90. 2 never did "
            "(1 closed as venting, 1 escalated); 1 still awaited."
        )
        chart = page.locator("svg").filter(
            has=page.get_by_text("After the handoff: customers who got in touch", exact=True)
        )
        for label in (
            "contact by dm",
            "contact by email",
            "closed as venting",
            "never, escalated",
            "still waiting",
            "cases moved offline",
            "x",
            "facebook",
            "instagram",
        ):
            assert await chart.get_by_text(label, exact=True).first.is_visible(), label
        table = page.locator("table").filter(has=page.get_by_text("closed as venting"))
        rows = {
            (cells[0], cells[1]): cells[2:]
            for row in await table.locator("tbody tr").all()
            if (cells := await row.locator("td").all_inner_texts())
        }
        assert rows[("all", "all")] == [
            "6",
            "3 (50%)",
            "dm 2, email 1",
            "20m",
            "52m",
            "2",
            "1",
            "1",
        ]
        assert rows[("instagram", "all")] == ["2", "0 (0%)", "-", "-", "-", "1", "0", "1"]
        assert rows[("x", "respond")][:3] == ["3", "2 (67%)", "dm 1, email 1"]
        await page.screenshot(path=SHOTS / "report-contacts.png")
        await browser.close()

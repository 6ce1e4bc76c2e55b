"""The ops lead's report after a week of cases, as a person sees it in Chromium.

Six simulated days on the time-skipping test server: complaints every day, a burst that the
spike check (the store's own) flags, supervisors approving, editing and rejecting replies, some
late; customers getting in touch, cases resolved, complaints hidden, one dismissed; a few
replies never approved (the backlog). The page is opened in Debian's chromium via Playwright
and read as a person reads it: titles, axes, the SLA line, the backlog's links to the Web UI.
Screenshots go to artifacts/report/ (git-ignored; docs/report-*.png are copies).
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from complaintflow.cli.operators.records import read_remarks, read_spikes
from complaintflow.reporting import build_report, report_page
from complaintflow.store import open_store
from complaintflow.store.base import Entry
from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.messages import (
    CaseStatus,
    CustomerContact,
    SupervisorAction,
)
from tests.support.cases import Handle, complaint, open_, pending, send_update, until
from tests.support.platform import Platform

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "report"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
UI = "http://localhost:8233"
POLICY = "cases@v1"


@dataclasses.dataclass
class Week:
    """What the simulated week left behind."""

    handles: list[Handle] = dataclasses.field(default_factory=list)
    late: list[Handle] = dataclasses.field(default_factory=list)  # approved the next day


async def _record(store: object, handle_id: str | None, n: str, at: datetime) -> None:
    entry = Entry(
        platform="x",
        mention_id=n,
        policy=POLICY,
        route="respond" if handle_id else None,
        score=0.5 if handle_id else 0.1,
        case_id=handle_id,
        decided_at=at.isoformat(timespec="microseconds"),
        record={"id": n, "platform": "x", "route": "respond" if handle_id else None},
    )
    await store.record(entry)  # type: ignore[attr-defined]


async def _day(env: WorkflowEnvironment, queue: str, store: object, week: Week, day: int) -> None:
    """One day: complaints arrive, the previous day's late one is approved, people decide."""
    now = await env.get_current_time()
    count = 14 if day == 2 else 4  # day 2: a burst
    opened = []
    for i in range(count):
        thread = f"b-{day}-{i}"  # replies in conversations the brand started: hideable
        handle = await open_(env, queue, complaint(id=f"m-{day}-{i}", thread_id=thread))
        await _record(store, handle.id, f"m-{day}-{i}", now)
        opened.append(handle)
    for r in range(2 + day % 3):
        await _record(store, None, f"remark-{day}-{r}", now)
    # The store's own spike check, as the SpikeWatch schedule runs it, at the simulated time:
    # day 2's burst opens a spike, day 3's calm closes it.
    await asyncio.to_thread(
        store.backend.check_spike,  # type: ignore[attr-defined]
        POLICY,
        now + timedelta(minutes=5),
        timedelta(minutes=15),
        timedelta(days=7),
        3.0,
        5,
    )
    for handle in opened:
        await until(handle, pending("reply_acknowledge"))
    for late in week.late:
        await send_update(
            late, CaseWorkflow.approve, SupervisorAction(step="reply_acknowledge", by="lee")
        )
    week.late = []
    first, second, third, fourth, *burst = opened
    await env.sleep(timedelta(minutes=20 + 15 * day))
    await send_update(
        first, CaseWorkflow.approve, SupervisorAction(step="reply_acknowledge", by="dana")
    )
    await env.sleep(timedelta(minutes=50))
    await send_update(
        second,
        CaseWorkflow.edit,
        SupervisorAction(step="reply_acknowledge", by="ann", text="So sorry, Jo: check your DMs."),
    )
    for handle in burst:
        await send_update(
            handle, CaseWorkflow.approve, SupervisorAction(step="reply_acknowledge", by="ann")
        )
    if day % 2:
        await send_update(
            third,
            CaseWorkflow.close,
            SupervisorAction(by="dana", note="dismissed: not a complaint"),
        )
    else:
        await send_update(
            third,
            CaseWorkflow.reject,
            SupervisorAction(step="reply_acknowledge", by="sam", note="no"),
        )
    if day < 4:
        week.late.append(fourth)  # waits past the 2h approval and into tomorrow
    for handle in (first, second):
        await until(handle, lambda s: s.status is CaseStatus.AWAITING_CONTACT)
        await handle.signal(CaseWorkflow.customer_contact, CustomerContact(reference=f"d{day}"))
    await until(first, lambda s: s.status is CaseStatus.AWAITING_RESOLUTION)
    await send_update(first, CaseWorkflow.resolve, SupervisorAction(by="dana", note="refund"))
    await until(first, pending("remove_public_hide"))
    await send_update(
        first, CaseWorkflow.approve, SupervisorAction(step="remove_public_hide", by="sam")
    )
    week.handles += opened
    await env.sleep(timedelta(hours=23) - timedelta(minutes=70 + 15 * day))


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")
async def test_a_weeks_report_reads_right_in_a_browser(
    env: WorkflowEnvironment, tmp_path: Path, queue: str
) -> None:
    from playwright.async_api import async_playwright

    database = f"sqlite:///{tmp_path / 'store.db'}"
    store = open_store(database)
    week = Week()
    try:
        async with Platform().worker(env.client, queue):
            for day in range(6):
                await _day(env, queue, store, week, day)
            now = (await env.get_current_time()).astimezone(UTC)
            # Queried, closed cases too: waiting on a result would let the server skip time.
            states = [await h.query(CaseWorkflow.state_query) for h in week.handles]
    finally:
        await store.close()
    remarks = await asyncio.to_thread(read_remarks, None, database)
    spikes = await asyncio.to_thread(read_spikes, database)
    report = build_report(
        states, remarks, spikes, now=now, since=timedelta(days=7), ui=UI, namespace="default"
    )
    assert sum(p.received for p in report.periods) == 34 and len(report.spikes) == 1
    assert [p.spike for p in report.periods if p.received] == [0, 0, 1, 1, 0, 0]
    waiting = [w.case_id for w in report.backlog]
    assert len(waiting) == 2, "the last two days' late replies still wait"
    page_file = tmp_path / "report.html"
    page_file.write_text(report_page(report), encoding="utf-8")

    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = await browser.new_page(viewport={"width": 1100, "height": 1000})
        await page.goto(page_file.as_uri())
        assert await page.title() == "complaintflow report"
        for title in (
            "Complaints received per day",
            "Time to first public answer against the SLA",
            "What became of each day's complaints",
            "Cases awaiting approval, by age",
            "Decisions by supervisor",
        ):
            chart_title = page.locator("svg").get_by_text(title, exact=True)
            assert await chart_title.is_visible(), title
        for label in ("day (UTC)", "hours", "complaints", "SLA 24.0h", "spike alert open"):
            axis = page.locator("svg").get_by_text(label, exact=True).first
            assert await axis.is_visible(), label
        await page.screenshot(path=SHOTS / "report-trends.png")

        heading = page.get_by_role("heading", name="Backlog: awaiting approval now (2)")
        await heading.evaluate("element => element.scrollIntoView()")  # at the top
        links = page.get_by_role("link")
        names = [await link.inner_text() for link in await links.all()]
        assert names == waiting, "each waiting case is a link, oldest first"
        for link, case_id in zip(await links.all(), waiting, strict=True):
            href = await link.get_attribute("href")
            assert href == f"{UI}/namespaces/default/workflows/{case_id.replace('@', '%40')}"
        people = page.locator("table").nth(1).locator("tbody tr td:first-child")
        assert set(await people.all_inner_texts()) == {"dana", "ann", "lee", "sam"}
        await page.screenshot(path=SHOTS / "report-backlog.png")
        await browser.close()

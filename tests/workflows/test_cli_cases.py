"""`complaintflow cases / approve / resolve` against a real local dev server."""

from __future__ import annotations

import asyncio
import re

from temporalio.testing import WorkflowEnvironment

from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.messages import CaseState, SupervisorAction
from tests.support.cases import complaint, open_, pending, replied, send_update, until
from tests.support.platform import Platform
from tests.support.processes import cli


async def test_supervisor_works_a_case_from_the_terminal(dev: WorkflowEnvironment) -> None:
    platform = Platform()
    mention = complaint(id="cli-1", thread_id="cli-1")
    async with platform.worker(dev.client, "cli"):
        handle = await open_(dev, "cli", mention)
        for _ in range(100):  # visibility is eventually consistent
            listed = await asyncio.to_thread(cli, dev, "cases", "--awaiting-approval")
            if "case-x-cli-1@cases" in listed.stdout:
                break
            await asyncio.sleep(0.1)
        assert listed.returncode == 0, listed.stderr
        header, *lines = listed.stdout.splitlines()
        assert header.split()[:4] == ["case", "status", "priority", "age"]
        row = next(line for line in lines if "case-x-cli-1@cases" in line)
        assert row.split()[:3] == ["case-x-cli-1@cases", "awaiting_approval", "normal"]
        # the summary the Web UI's list shows: platform, author, score, route, the words
        assert "x · @jo · 0.5 · respond: @AcmeCares my kettle arrived broken" in row
        assert re.search(r" \(in (23h \d+m|1d 0h)\)", row), "first answer due in about 24h"
        refused = await asyncio.to_thread(
            cli, dev, "approve", "case-x-cli-1@cases", "reply", "--by", "dana"
        )
        assert refused.returncode == 1
        assert refused.stderr.strip() == (
            'complaintflow approve: step "reply" is not waiting for approval; '
            '"reply_acknowledge" is: send {"step": "reply_acknowledge", ...}'
        )
        approved = await asyncio.to_thread(
            cli, dev, "approve", "case-x-cli-1@cases", "reply_acknowledge", "--by", "dana"
        )
        assert approved.returncode == 0, approved.stderr
        assert approved.stdout.strip() == "reply_acknowledge approved by dana"
        closed = await asyncio.to_thread(
            cli, dev, "close", "case-x-cli-1@cases", "--by", "dana", "--note", "test over"
        )
        assert closed.stdout.strip() == "case case-x-cli-1@cases closed"
        final: CaseState = await handle.result()
        assert final.closed_reason == "test over"
        missing = await asyncio.to_thread(cli, dev, "resolve", "case-x-nope", "--by", "dana")
        assert missing.returncode == 1 and "no such case" in missing.stderr
    assert [r.text for r in platform.of("complaintflow.post_reply")] == [
        "Sorry to hear this, Jo. Please check your messages."
    ]


async def listed_with(dev: WorkflowEnvironment, *case_ids: str) -> list[str]:
    """The lines of `cases --awaiting-approval` once every case in `case_ids` is listed."""
    for _ in range(100):  # visibility is eventually consistent
        listed = await asyncio.to_thread(cli, dev, "cases", "--awaiting-approval")
        assert listed.returncode == 0, listed.stderr
        if all(case_id in listed.stdout for case_id in case_ids):
            return listed.stdout.splitlines()
        await asyncio.sleep(0.1)
    raise AssertionError(f"not listed: {case_ids}")


async def test_cases_are_oldest_first_and_decisions_default_to_the_waiting_step(
    dev: WorkflowEnvironment,
) -> None:
    platform = Platform()
    async with platform.worker(dev.client, "cli-default"):
        older = await open_(dev, "cli-default", complaint(id="cli-old", thread_id="cli-old"))
        await until(older, pending("reply_acknowledge"))
        newer = await open_(dev, "cli-default", complaint(id="cli-new", thread_id="cli-new"))
        await until(newer, pending("reply_acknowledge"))
        lines = await listed_with(dev, older.id, newer.id)
        order = [line.split()[0] for line in lines if line.split()[0] in (older.id, newer.id)]
        assert order == [older.id, newer.id], "the case that has waited longest comes first"

        approved = await asyncio.to_thread(cli, dev, "approve", older.id, "--by", "dana")
        assert approved.returncode == 0, approved.stderr
        assert approved.stdout.strip() == "reply_acknowledge approved by dana"
        edited = await asyncio.to_thread(
            cli, dev, "edit", newer.id, "--by", "ann", "--text", "So sorry, Jo: see your DMs."
        )
        assert edited.returncode == 0, edited.stderr
        assert edited.stdout.strip() == "reply_acknowledge approved with edits by ann"
        await until(older, lambda s: s.pending is None and bool(s.first_response_at))
        again = await asyncio.to_thread(cli, dev, "reject", older.id, "--by", "dana")
        assert again.returncode == 1
        assert again.stderr.strip() == (
            f"complaintflow reject: case {older.id} is not waiting for an approval: "
            "it is awaiting_contact at handoff_move_offline"
        )
        for handle in (older, newer):
            await send_update(handle, CaseWorkflow.close, SupervisorAction(by="dana"))
        closed = await asyncio.to_thread(cli, dev, "approve", older.id, "--by", "dana")
        assert closed.returncode == 1
        assert closed.stderr.strip() == f"complaintflow approve: case {older.id} is closed"
    assert sorted(r.text for r in platform.of("complaintflow.post_reply")) == [
        "So sorry, Jo: see your DMs.",
        "Sorry to hear this, Jo. Please check your messages.",
    ]


async def test_a_supervisor_records_the_customers_call_from_the_terminal(
    dev: WorkflowEnvironment,
) -> None:
    platform = Platform()
    case_id = "case-x-cli-call@cases"
    async with platform.worker(dev.client, "cli-call"):
        handle = await replied(dev, "cli-call", complaint(id="cli-call", thread_id="cli-call"))
        unknown = await asyncio.to_thread(
            cli, dev, "contact", case_id, "--channel", "pigeon", "--by", "dana"
        )
        assert unknown.returncode == 2 and "invalid choice: 'pigeon'" in unknown.stderr
        called = await asyncio.to_thread(
            cli,
            dev,
            "contact",
            case_id,
            "--channel",
            "phone",
            "--by",
            "dana",
            "--note",
            "called, refund agreed",
        )
        assert called.returncode == 0, called.stderr
        assert called.stdout.strip() == f"case {case_id}: contact by phone recorded by dana"
        seen = await until(handle, lambda s: s.status.value == "awaiting_resolution")
        assert [(c.channel, c.by, c.text) for c in seen.contacts] == [
            ("phone", "dana", "called, refund agreed")
        ]
        nameless = await asyncio.to_thread(cli, dev, "contact", case_id, "--by", " ")
        assert nameless.returncode == 1
        assert nameless.stderr.strip() == (
            'complaintflow contact: say who you are: add "by": "YOUR NAME" to the payload'
        )
        await send_update(handle, CaseWorkflow.close, SupervisorAction(by="dana", note="done"))


async def test_a_supervisor_resolves_and_approves_the_removal_in_one_command(
    dev: WorkflowEnvironment,
) -> None:
    platform = Platform()
    case_id = "case-x-cli-ahead@cases"  # a case is keyed by its thread
    async with platform.worker(dev.client, "cli-ahead"):
        # a reply under the brand's post: X lets the brand hide it
        handle = await replied(dev, "cli-ahead", complaint(id="cli-ahead-1", thread_id="cli-ahead"))
        await send_update(handle, CaseWorkflow.contact, {"by": "dana", "channel": "phone"})
        await until(handle, lambda s: s.status.value == "awaiting_resolution")
        wrong = await asyncio.to_thread(
            cli, dev, "resolve", case_id, "--by", "dana", "--approve", "remove_public"
        )
        assert wrong.returncode == 1
        assert wrong.stderr.strip() == (
            "complaintflow resolve: no step 'remove_public' comes later in playbook standard; "
            "later steps that ask approval: remove_public_hide"
        )
        done = await asyncio.to_thread(
            cli, dev, "resolve", case_id, "--by", "dana", "--approve", "remove_public_hide"
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"case {case_id} marked resolved"
        final: CaseState = await handle.result()
    assert final.closed_reason == "resolved"
    assert [r.action for r in platform.of("complaintflow.remove_post")] == ["hide"]
    assert not any(
        e.what == "approval requested" and e.step == "remove_public_hide" for e in final.audit
    )

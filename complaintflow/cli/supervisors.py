"""Commands for supervisors: list the open cases (`cases`, oldest first) and decide on one
(`approve`, `edit`, `reject` the step it waits on; `resolve`, `close`, `dismiss`, `route`;
`contact`: the customer called), as Temporal updates the case validates; `open` a logged
remark as a case."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from complaintflow.cli.common import OK, open_store, positive, run_temporal
from complaintflow.cli.options import database_option, temporal_options
from complaintflow.errors import CommandFailed
from complaintflow.workflows.messages import CONTACT_CHANNELS

_ON_A_STEP = (
    ("approve", "approve the step a case is waiting on"),
    ("edit", "approve the step a case is waiting on with a new text"),
    ("reject", "reject the step a case is waiting on (it is skipped)"),
)
SUMMARY_WIDTH = 70
_ON_A_CASE = (
    ("resolve", "mark a case's problem resolved"),
    ("close", "close a case now"),
    ("dismiss", "not a complaint: close a case, post nothing, and label the post so"),
)


def register(commands: Any) -> None:
    """cases, approve, reject, resolve, close, dismiss, route, contact, open."""
    cases = commands.add_parser(
        "cases", help="list open cases, oldest first: summary, age, first answer due"
    )
    cases.add_argument(
        "--awaiting-approval", action="store_true", help="only cases waiting for a supervisor"
    )
    temporal_options(cases)
    cases.add_argument("--policy", metavar="NAME", help="only cases of this policy")
    cases.add_argument(
        "--limit", type=positive, default=100, help="at most this many (the oldest; default 100)"
    )
    cases.set_defaults(handler=_cases)
    for name, text in _ON_A_STEP:
        command = _decision(commands, name, text)
        command.add_argument(
            "step",
            metavar="STEP",
            nargs="?",
            default="",
            help="the step (default: the one the case is waiting on)",
        )
        if name == "edit":
            command.add_argument("--text", required=True, help="the text to post instead")
        _decider(command)
    for name, text in _ON_A_CASE:
        command = _decision(commands, name, text)
        if name == "resolve":
            command.add_argument(
                "--approve",
                action="append",
                default=[],
                metavar="STEP",
                help="approve this later step now, e.g. the removal of the public post, so "
                "the case goes on without asking (repeatable; cheaper: no second approval)",
            )
        _decider(command)
    route = _decision(
        commands,
        "route",
        "send a case waiting for a person (a post the policy cannot read) to a playbook",
    )
    route.add_argument("playbook", metavar="PLAYBOOK")
    _decider(route)
    contact = _decision(
        commands,
        "contact",
        "record the customer's contact (a call, an email to a person): the handoff wait ends",
    )
    contact.add_argument(
        "--channel",
        default="phone",
        choices=CONTACT_CHANNELS,
        help="how the customer got in touch (default phone)",
    )
    _decider(contact)
    contact.set_defaults(handler=_contact)
    opening = commands.add_parser(
        "open", help="make a remark the policy logged as throwaway into a case (a complaint)"
    )
    opening.add_argument("mention", metavar="MENTION_ID")
    opening.add_argument("--by", required=True, metavar="NAME", help="who decides")
    opening.add_argument("--policy", required=True, type=Path, metavar="FILE")
    opening.add_argument("--platform", default="x", help="the mention's platform (default x)")
    opening.add_argument(
        "--playbook", help="default: the playbook of the policy's last route that answers"
    )
    database_option(opening)
    temporal_options(opening, task_queue=True)
    opening.set_defaults(handler=_open)


def _decision(commands: Any, name: str, text: str) -> argparse.ArgumentParser:
    command: argparse.ArgumentParser = commands.add_parser(name, help=text)
    command.add_argument("case", metavar="CASE")
    command.set_defaults(handler=_act, update=name, step="")
    return command


def _decider(command: argparse.ArgumentParser) -> None:
    """Who decides, their note, and the Temporal connection."""
    command.add_argument("--by", required=True, metavar="NAME", help="who decides")
    command.add_argument("--note", default="")
    temporal_options(command)


def _cases(args: argparse.Namespace) -> int:
    from complaintflow.client.cases import connect, list_cases

    async def run() -> list[Any]:
        client = await connect(args.profile)
        return await list_cases(
            client,
            awaiting_approval=args.awaiting_approval,
            policy=args.policy,
            limit=args.limit,
            oldest_first=True,
            summaries=True,
        )

    rows = run_temporal(run)
    now = datetime.now(UTC)
    table = [("case", "status", "priority", "age", "first answer due", "summary")]
    for row in rows:
        age = _span(now - row.started) if row.started else "-"
        summary = row.summary if len(row.summary) <= SUMMARY_WIDTH else row.summary[:69] + "…"
        table.append((row.case_id, row.status, row.priority, age, _due(row.sla_due, now), summary))
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for line in table:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
    print(f"{len(rows)} case{'s' if len(rows) != 1 else ''}, oldest first")
    return OK


def _open(args: argparse.Namespace) -> int:
    from complaintflow.client.cases import connect
    from complaintflow.client.opening import CannotOpen, Opened, open_remark
    from complaintflow.rules.compiler import load_policy

    policy = load_policy(args.policy)
    store = open_store(args.database)

    async def run() -> Opened:
        try:
            client = await connect(args.profile)
            return await open_remark(
                client,
                store,
                policy,
                platform=args.platform,
                mention_id=args.mention,
                by=args.by,
                playbook=args.playbook,
                task_queue=args.task_queue,
            )
        finally:
            await store.close()

    try:
        opened: Opened = run_temporal(run)
    except CannotOpen as exc:
        raise CommandFailed(str(exc)) from None
    if opened.new:
        print(f"opened case {opened.case_id}; labelled a complaint (open by {args.by})")
    else:
        print(f"mention {args.mention} already has case {opened.case_id}")
    return OK


def _span(span: timedelta) -> str:
    """A duration as a person reads it: 45m, 5h 10m, 3d 4h."""
    minutes = max(0, int(span.total_seconds() // 60))
    days, hours, minutes = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {minutes}m" if hours else f"{minutes}m"


def _due(due: datetime | None, now: datetime) -> str:
    """The SLA due time and how far it is (or how late)."""
    if due is None:
        return "-"
    when = due.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    left = due - now
    return f"{when} (in {_span(left)})" if left >= timedelta(0) else f"{when} ({_span(-left)} late)"


def _act(args: argparse.Namespace) -> int:
    from complaintflow.client.cases import act, connect, pending_step
    from complaintflow.workflows.messages import SupervisorAction

    async def run() -> str:
        client = await connect(args.profile)
        step = args.step
        if args.update in ("approve", "edit", "reject") and not step:
            step = await pending_step(client, args.case)
        action = SupervisorAction(
            step=step,
            by=args.by,
            note=args.note,
            text=getattr(args, "text", None) or "",
            playbook=getattr(args, "playbook", ""),
            approve=", ".join(getattr(args, "approve", None) or []),
        )
        return await act(client, args.case, args.update, action)

    print(run_temporal(run))
    return OK


def _contact(args: argparse.Namespace) -> int:
    from complaintflow.client.cases import act, connect
    from complaintflow.workflows.messages import ContactAction

    async def run() -> str:
        client = await connect(args.profile)
        action = ContactAction(by=args.by, channel=args.channel, note=args.note)
        return await act(client, args.case, "contact", action)

    print(run_temporal(run))
    return OK

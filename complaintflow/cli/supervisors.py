"""Commands for supervisors: list the open cases (`cases`) and decide on one (`approve`,
`reject`, `resolve`, `close`, `dismiss`, `route`), as Temporal updates the case validates."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from complaintflow.cli.common import OK, open_store, run_temporal
from complaintflow.cli.options import database_option, temporal_options
from complaintflow.errors import CommandFailed

_ON_A_STEP = (
    ("approve", "approve the step a case is waiting on"),
    ("reject", "reject the step a case is waiting on (it is skipped)"),
)
_ON_A_CASE = (
    ("resolve", "mark a case's problem resolved"),
    ("close", "close a case now"),
    ("dismiss", "not a complaint: close a case, post nothing, and label the post so"),
)


def register(commands: Any) -> None:
    """cases, approve, reject, resolve, close, dismiss, route, open."""
    cases = commands.add_parser("cases", help="list open cases (Temporal visibility)")
    cases.add_argument(
        "--awaiting-approval", action="store_true", help="only cases waiting for a supervisor"
    )
    temporal_options(cases)
    cases.add_argument("--policy", metavar="NAME", help="only cases of this policy")
    cases.set_defaults(handler=_cases)
    for name, text in _ON_A_STEP:
        command = _decision(commands, name, text)
        command.add_argument("step", metavar="STEP")
        _decider(command)
    for name, text in _ON_A_CASE:
        _decider(_decision(commands, name, text))
    route = _decision(
        commands,
        "route",
        "send a case waiting for a person (a post the policy cannot read) to a playbook",
    )
    route.add_argument("playbook", metavar="PLAYBOOK")
    _decider(route)
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
    from complaintflow.cases import connect, list_cases

    async def run() -> list[Any]:
        client = await connect(args.profile)
        return await list_cases(
            client, awaiting_approval=args.awaiting_approval, policy=args.policy
        )

    rows = run_temporal(run)
    table = [("case", "status", "platform", "score", "route", "priority", "first answer due")]
    for row in rows:
        due = row.sla_due.strftime("%Y-%m-%d %H:%M UTC") if row.sla_due else "-"
        score = f"{row.score:.2f}" if row.score is not None else "-"
        table.append((row.case_id, row.status, row.platform, score, row.route, row.priority, due))
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for line in table:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
    print(f"{len(rows)} case{'s' if len(rows) != 1 else ''}")
    return OK


def _open(args: argparse.Namespace) -> int:
    from complaintflow.cases import connect
    from complaintflow.opening import CannotOpen, Opened, open_remark
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


def _act(args: argparse.Namespace) -> int:
    from complaintflow.cases import act, connect
    from complaintflow.workflows.messages import SupervisorAction

    async def run() -> str:
        client = await connect(args.profile)
        action = SupervisorAction(
            step=args.step, by=args.by, note=args.note, playbook=getattr(args, "playbook", "")
        )
        return await act(client, args.case, args.update, action)

    print(run_temporal(run))
    return OK

"""`report` (trends, backlog, who decided, spikes: from the cases and the decision store),
`export` (every decision as JSON lines) and `codec-server` (decrypting payloads for the Web UI)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from complaintflow.cli.common import OK, read_store, run_temporal
from complaintflow.cli.options import database_option, temporal_options
from complaintflow.errors import UsageError

UI_VARIABLE = "COMPLAINTFLOW_UI_URL"
DEFAULT_UI = "http://localhost:8233"  # the dev server's Web UI


def register(commands: Any) -> None:
    """report, export, codec-server."""
    report = commands.add_parser("report", help="response rate, time to answer, offline, resolved")
    report.add_argument(
        "--decision-log", type=Path, help="read remarks from this JSON-lines file, not the store"
    )
    database_option(report)
    report.add_argument("--html", type=Path, help="also write a self-contained web page here")
    report.add_argument(
        "--since",
        type=_since,
        default="30d",
        metavar="AGE",
        help="the complaints received in the last AGE: 12h, 30d, 6w (default 30d)",
    )
    report.add_argument(
        "--per",
        choices=["day", "week"],
        help="trend period (default: day, week when --since is over 62 days)",
    )
    report.add_argument(
        "--json", action="store_true", help="print the whole report as JSON (for other tools)"
    )
    report.add_argument(
        "--ui-url",
        default=os.environ.get(UI_VARIABLE, DEFAULT_UI),
        metavar="URL",
        help=f"the Temporal Web UI the backlog links to (default: ${UI_VARIABLE} or {DEFAULT_UI})",
    )
    report.add_argument(
        "--prometheus-textfile",
        type=Path,
        metavar="FILE",
        help="also write the backlog as Prometheus gauges (node_exporter textfile collector)",
    )
    report.add_argument("--limit", type=int, default=5000, help="at most this many cases")
    temporal_options(report)
    report.set_defaults(handler=_report)

    export = commands.add_parser(
        "export", help="write every decision in the store as JSON lines (a file or stdout)"
    )
    database_option(export)
    export.add_argument("--out", type=Path, help="the file to write (default: stdout)")
    export.set_defaults(handler=_export)

    codec = commands.add_parser(
        "codec-server", help="decrypt payloads for the Temporal Web UI (needs the codec keys)"
    )
    codec.add_argument("--host", default="127.0.0.1")
    codec.add_argument("--port", type=int, default=8888)
    codec.add_argument(
        "--ui-origin",
        required=True,
        help="the Web UI's origin, e.g. https://cloud.temporal.io; CORS answers only it",
    )
    codec.set_defaults(handler=_codec_server)


def _since(text: str) -> Any:
    from datetime import timedelta

    from complaintflow.reporting import parse_since

    try:
        found: timedelta = parse_since(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return found


def _report(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from complaintflow.client.cases import connect, report_states
    from complaintflow.reporting import (
        build_report,
        contact_story,
        contact_table,
        report_page,
        table,
        write_backlog_metrics,
    )
    from complaintflow.workflows.messages import CaseState

    now = datetime.now(UTC)
    remarks, spikes = read_remarks(args.decision_log, args.database), read_spikes(args.database)

    async def run() -> tuple[list[CaseState], str]:
        client = await connect(args.profile)
        states = await report_states(client, since=now - args.since, limit=args.limit)
        return states, client.namespace

    states, namespace = run_temporal(run)
    report = build_report(
        states,
        remarks,
        spikes,
        now=now,
        since=args.since,
        period=args.per,
        ui=args.ui_url,
        namespace=namespace,
    )
    if args.json:
        print(json.dumps(report.as_json(), indent=1, ensure_ascii=False))
    else:
        print(table(report.rows))
        print(f"\nafter the handoff: {contact_story(report.contacts[-1])}")
        if report.contacts[-1].moved_offline:
            print(contact_table(report.contacts))
        print(f"\nawaiting approval: {len(report.backlog)}", end="")
        if report.backlog:
            oldest = report.backlog[0]
            print(f" (oldest {oldest.case_id}, {oldest.step}, since {oldest.waiting_since[:16]})")
        else:
            print()
    if args.prometheus_textfile:
        write_backlog_metrics(report, args.prometheus_textfile, now=now)
    if args.html:
        args.html.write_text(report_page(report), encoding="utf-8")
        print(f"\nweb page: {args.html}", file=sys.stderr if args.json else sys.stdout)
    return OK


def read_spikes(database: str | None) -> list[Any]:
    """The spike alerts the store keeps (the SpikeWatch schedule opens and closes them)."""
    import asyncio

    from complaintflow.reporting import Spike

    async def read(store: Any) -> list[Any]:
        rows = await asyncio.to_thread(
            store.backend.query,
            "SELECT policy, started_at, ended_at, complaints, expected FROM spikes"
            " ORDER BY started_at",
        )
        return [
            Spike(str(p), str(started), str(ended or ""), int(count), float(expected))
            for p, started, ended, count, expected in rows
        ]

    return read_store(database, read)  # type: ignore[no-any-return]


def read_remarks(decision_log: Path | None, database: str | None) -> list[dict[str, Any]]:
    """The logged remarks (with the time each was decided): from the store, or from a
    JSON-lines file (bad lines skipped)."""
    if decision_log is None:
        decisions = read_store(database, lambda store: store.decisions())
        return [d for d in decisions if "case" not in d]
    remarks: list[dict[str, Any]] = []
    if decision_log.is_file():
        for number, line in enumerate(decision_log.read_text("utf-8").splitlines(), 1):
            try:
                remarks.append(json.loads(line))
            except json.JSONDecodeError:
                print(f"{decision_log}:{number}: not JSON, skipped", file=sys.stderr)
    return remarks


def _export(args: argparse.Namespace) -> int:
    decisions = read_store(args.database, lambda store: store.decisions())
    # Text that is not valid Unicode (a lone surrogate in a post id) is written as its JSON
    # escape, so every line stays whole and parses back to what was stored.
    lines = [
        (json.dumps(d, ensure_ascii=False) + "\n").encode("utf-8", "backslashreplace")
        for d in decisions
    ]
    if args.out is None:
        sys.stdout.flush()
        sys.stdout.buffer.writelines(lines)
        sys.stdout.buffer.flush()
    else:
        args.out.write_bytes(b"".join(lines))
        print(f"{len(lines)} decisions written to {args.out}", file=sys.stderr)
    return OK


def _codec_server(args: argparse.Namespace) -> int:
    import uvicorn

    from complaintflow.codec.keys import KEYS, Keyring
    from complaintflow.codec.server import TOKEN, create_codec_app

    keys = Keyring.from_environment()
    if keys is None:
        raise UsageError(f"set {KEYS} (or {KEYS}_FILE): the keys to decrypt with")
    token = os.environ.get(TOKEN, "")
    if not token:
        raise UsageError(f"set {TOKEN}: the token every request must carry")
    app = create_codec_app(keys, token=token, ui_origin=args.ui_origin)
    print(
        f"codec server on http://{args.host}:{args.port} for {args.ui_origin}; "
        f"keys {', '.join(keys.keys)} (encrypting with {keys.current})",
        file=sys.stderr,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return OK

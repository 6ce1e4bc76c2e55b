"""`report` (response rate, time to answer, resolved: from the cases and the decision store),
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


def register(commands: Any) -> None:
    """report, export, codec-server."""
    report = commands.add_parser("report", help="response rate, time to answer, offline, resolved")
    report.add_argument(
        "--decision-log", type=Path, help="read remarks from this JSON-lines file, not the store"
    )
    database_option(report)
    report.add_argument("--html", type=Path, help="also write a self-contained web page here")
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


def _report(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from complaintflow.client.cases import case_states, connect
    from complaintflow.reporting import page, summarise, table
    from complaintflow.workflows.messages import CaseState

    remarks = _remarks(args.decision_log, args.database)

    async def run() -> list[CaseState]:
        client = await connect(args.profile)
        return await case_states(client, limit=args.limit)

    rows = summarise(run_temporal(run), remarks)
    print(table(rows))
    if args.html:
        generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        args.html.write_text(page(rows, generated=generated), encoding="utf-8")
        print(f"\nweb page: {args.html}")
    return OK


def _remarks(decision_log: Path | None, database: str | None) -> list[dict[str, Any]]:
    """The logged remarks: from the store, or from a JSON-lines file (bad lines skipped)."""
    if decision_log is None:
        return read_store(database, lambda store: store.remarks())  # type: ignore[no-any-return]
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

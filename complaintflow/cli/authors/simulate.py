"""`simulate`: triage every row of a CSV or JSONL file and print where the mentions would
go (route, playbook, share, mean score), their languages and the speed."""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from complaintflow.cli.common import OK
from complaintflow.cli.options import csv_options
from complaintflow.errors import UsageError
from complaintflow.learning.files import BatchError, count_rows, read_mentions
from complaintflow.platforms.facts import SPECS
from complaintflow.rules.compiler import UNREAD_ROUTE, load_policy
from complaintflow.rules.mention import Mention
from complaintflow.rules.model import CompiledPolicy
from complaintflow.rules.triage import CHUNK, Triage


def register(commands: Any) -> None:
    simulate = commands.add_parser("simulate", help="triage every row of a CSV or JSONL file")
    simulate.add_argument("policy", type=Path, metavar="POLICY")
    simulate.add_argument("input", type=Path, metavar="INPUT.{csv,jsonl}")
    csv_options(simulate)
    simulate.add_argument(
        "--platform",
        default="x",
        choices=list(SPECS),
        help="platform of CSV rows (default x)",
    )
    simulate.add_argument("--out", type=Path, help="write one JSON line per row here")
    simulate.set_defaults(handler=_simulate)


def _simulate(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    if not args.input.is_file():
        raise UsageError(f"no such file: {args.input}")
    triage = Triage(policy)
    total = count_rows(args.input)
    show_progress = sys.stderr.isatty() and total > 2000
    routes: Counter[str | None] = Counter()
    languages: Counter[str] = Counter()
    scores: dict[str | None, float] = {}
    errors = 0
    started = time.perf_counter()
    out = args.out.open("w", encoding="utf-8") if args.out else None
    try:
        mentions = read_mentions(
            args.input,
            text_column=args.text_column,
            id_column=args.id_column,
            platform=args.platform,
        )
        decided = (d for batch in _batches(mentions) for d in triage.decide_many(batch))
        for number, decision in enumerate(decided, 1):
            routes[decision.route] += 1
            languages[decision.language or "unknown"] += 1
            scores[decision.route] = scores.get(decision.route, 0.0) + decision.score
            errors += bool(decision.errors)
            if out:
                out.write(json.dumps(decision.to_record(), separators=(",", ":")) + "\n")
            if show_progress and number % 500 == 0:
                _progress(number, total)
    except BatchError as exc:
        raise UsageError(str(exc)) from None
    finally:
        if out:
            out.close()
    if show_progress:
        print(file=sys.stderr)
    elapsed = time.perf_counter() - started
    count = sum(routes.values())
    print(_summary(policy, routes, scores, count))
    print(
        "\nlanguages  "
        + ", ".join(f"{language} {n}" for language, n in languages.most_common(8))
        + (f", {len(languages) - 8} more" if len(languages) > 8 else "")
    )
    rate = count / elapsed if elapsed else 0.0
    print(
        f"\n{count} mentions in {elapsed:.2f}s ({rate:,.0f}/s)"
        + (f"; {errors} with evaluation errors (counted as not held)" if errors else "")
        + (f"; decisions written to {args.out}" if args.out else "")
    )
    return OK


def _progress(done: int, total: int) -> None:
    width = 30
    filled = int(width * done / total) if total else width
    print(
        f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}",
        end="",
        file=sys.stderr,
        flush=True,
    )


def _summary(
    policy: CompiledPolicy, routes: Counter[str | None], scores: dict[str | None, float], count: int
) -> str:
    order: list[str | None] = [r.name for r in policy.routes]
    playbooks: dict[str | None, Any] = {r.name: r.playbook for r in policy.routes}
    if policy.unread is not None:
        order.insert(0, UNREAD_ROUTE)
        playbooks[UNREAD_ROUTE] = policy.unread.playbook
    order.append(None)
    rows = [("route", "playbook", "mentions", "share", "mean score")]
    for route in order:
        n = routes.get(route, 0)
        rows.append(
            (
                route or "(none: throwaway)",
                playbooks.get(route) or "-",
                str(n),
                f"{100 * n / count:.1f}%" if count else "-",
                f"{scores.get(route, 0.0) / n:.2f}" if n else "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = [
        "  ".join(
            cell.ljust(widths[i]) if i < 2 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _batches(mentions: Iterable[Mention], size: int = CHUNK) -> Iterator[list[Mention]]:
    """The mentions in lists of `size` (triage decides a batch faster than one by one)."""
    iterator = iter(mentions)
    while batch := list(itertools.islice(iterator, size)):
        yield batch

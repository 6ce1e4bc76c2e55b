"""The `complaintflow` command line, by audience.

Policy authors: validate, explain, test, graph, simulate, schema, variables, train, evaluate,
labels, retrain (`cli.authors`). Operators: worker, poll-x, alerts, dev, serve, play, report,
export, codec-server, connect, doctor (`cli.operators`). Supervisors: cases, approve, reject,
resolve, close, dismiss, route, open (`cli.supervisors`). Options several commands share are
declared once in `cli.options`.

Exit codes: 0 all good, 1 a policy or a test failed, 2 the command was used wrongly.
Expected problems are printed as messages, never as tracebacks.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from complaintflow.cli import authors, operators, supervisors
from complaintflow.cli.common import FAILED, OK, USAGE, used_temporal
from complaintflow.codec.keys import CodecError
from complaintflow.errors import CommandFailed, ComplaintflowError, PolicyError, UsageError

__all__ = ["FAILED", "OK", "USAGE", "CommandFailed", "UsageError", "entry_point", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return USAGE
    try:
        code: int = args.handler(args)
    except UsageError as exc:
        print(f"complaintflow {args.command}: {exc}", file=sys.stderr)
        return USAGE
    except CommandFailed as exc:
        print(f"complaintflow {args.command}: {exc}", file=sys.stderr)
        return FAILED
    except PolicyError as exc:
        for diagnostic in exc.diagnostics:
            print(diagnostic, file=sys.stderr)
        return FAILED
    except BrokenPipeError:
        return OK
    except KeyboardInterrupt:
        return 130
    except CodecError as exc:  # malformed encryption keys and the like: say which, no stack
        print(f"complaintflow {args.command}: {exc}", file=sys.stderr)
        return USAGE
    except ComplaintflowError as exc:  # e.g. a token store folder others may write to
        print(f"complaintflow {args.command}: {exc}", file=sys.stderr)
        return FAILED
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="complaintflow",
        description="Policies for handling public complaints on social media, compiled into "
        "durable workflows.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    authors.register(commands)
    operators.register(commands)
    supervisors.register(commands)
    return parser


def entry_point() -> None:
    """The console script: exit with main()'s code.

    After a Temporal client was used, the process exits without interpreter finalization:
    the SDK's native runtime can crash while Python tears down its threads, which would turn
    a correct answer into a segfault exit code.
    """
    code = main()
    if used_temporal():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)

"""Commands for operators: run the system (worker, ingest, the local dev stack), feed and
watch it (play, poll-x, alerts, report, export), and set up its credentials and codec."""

from __future__ import annotations

from typing import Any

from complaintflow.cli.operators import dev, records, serve, worker
from complaintflow.cli.operators.connect import add_commands as add_credential_commands


def register(commands: Any) -> None:
    """worker, poll-x, alerts, dev, serve, play, report, export, codec-server, connect, doctor."""
    worker.register(commands)
    dev.register(commands)
    serve.register(commands)
    records.register(commands)
    add_credential_commands(commands)  # connect, doctor

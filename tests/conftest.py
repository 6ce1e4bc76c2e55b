"""Shared fixtures: the example policy, a small valid policy to mutate, and a CLI runner."""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from complaintflow.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_POLICY = ROOT / "policies.example.yaml"
EXAMPLE_SUITE = ROOT / "policies.example.tests.yaml"
AIRLINE = ROOT.parent / "shared" / "data" / "airline" / "Tweets.csv"

# A small valid policy; tests replace parts of it to make one mistake at a known place.
SMALL_POLICY = textwrap.dedent(
    """\
    policy: small
    version: 2
    brand:
      name: Acme
      accounts:
        x: {user_id: "1111", handle: AcmeCares}
        facebook: {page_id: "2222"}
      contact: {email: care@acme.example, phone: "+1 555 0100"}
    seriousness:
      signals:
        negative_tone: {when: "sentiment <= -0.3", weight: 0.4}
        problem_words: {when: "text_has_any(['refund', 'broken'])", weight: 0.4}
        wide_reach: {when: "author.followers >= 10000", weight: 0.3}
      thresholds: {respond: 0.4, escalate: 0.8}
    routes:
      - {name: escalated, when: "score >= thresholds.escalate", playbook: urgent}
      - {name: respond, when: "score >= thresholds.respond", playbook: standard}
    playbooks:
      standard:
        respond_within: 24h
        steps:
          - reply: {template: acknowledge, approval: {timeout: 2h, on_timeout: escalate}}
          - handoff: {template: move_offline, await_contact: 72h, on_no_contact: close}
          - await: resolution
          - remove_public: {action: hide, approval: {}}
          - close: {reason: resolved}
      urgent:
        respond_within: 1h
        steps:
          - notify: {via: slack, target: "#leads"}
          - reply: {template: acknowledge}
          - close:
    templates:
      acknowledge: "Sorry to hear this, {author.name}. Please check your messages."
      move_offline: "Please email {brand.contact.email}, case {case.id}."
    """
)


@dataclasses.dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run `complaintflow ARGS...` in-process; returns the exit code and what it printed."""

    def run(*args: str | Path) -> CliResult:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def policy_file(tmp_path: Path) -> Callable[[str], Path]:
    """Write policy text to a file and return its path."""

    def write(text: str, name: str = "policy.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def small(old: str = "", new: str = "") -> str:
    """SMALL_POLICY with one exact piece of text replaced (which must be there)."""
    if old:
        assert old in SMALL_POLICY, old
    return SMALL_POLICY.replace(old, new, 1) if old else SMALL_POLICY


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing `needle`."""
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(needle)


def column_of(text: str, needle: str) -> int:
    """1-based column where `needle` starts on its line."""
    for line in text.splitlines():
        if needle in line:
            return line.index(needle) + 1
    raise AssertionError(needle)

"""The decision log: each remark once, durable, whole lines, even across restarts and crashes."""

import asyncio
import json
from pathlib import Path

import pytest
import structlog

from complaintflow.ingest.decision_log import DecisionLog


def remark(n: int, platform: str = "x", policy: str = "acme") -> dict[str, object]:
    return {"id": str(n), "platform": platform, "route": None, "score": 0.1, "policy": policy}


def ids(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text().splitlines()]


async def test_a_redelivered_remark_is_logged_once(tmp_path: Path) -> None:
    log = DecisionLog(tmp_path / "decisions.jsonl")
    assert await log.append(remark(1)) is True
    assert await log.append(remark(1)) is False
    assert await log.append(remark(1, platform="facebook")) is True, "another platform's post 1"
    assert ids(log.path) == ["1", "1"]


async def test_a_remark_for_two_brands_is_a_line_for_each(tmp_path: Path) -> None:
    log = DecisionLog(tmp_path / "decisions.jsonl")
    assert await log.append(remark(1, policy="acme")) is True
    assert await log.append(remark(1, policy="globex")) is True, "the same post, another brand"
    assert await log.append(remark(1, policy="globex")) is False
    assert DecisionLog(log.path)._seen == log._seen, "read back the same after a restart"


async def test_a_line_torn_by_another_writer_while_running_does_not_swallow_the_next(
    tmp_path: Path,
) -> None:
    """A process killed mid-write leaves a partial line while `serve` runs: the next record
    starts on a fresh line, and reading back skips the torn one with a warning."""
    log = DecisionLog(tmp_path / "decisions.jsonl")
    assert await log.append(remark(1)) is True
    with log.path.open("ab") as other:  # another writer, killed mid-line
        other.write(b'{"id": "99", "platf')
    assert await log.append(remark(2)) is True
    lines = log.path.read_text().splitlines()
    assert lines[1] == '{"id": "99", "platf'
    assert [json.loads(line)["id"] for line in (lines[0], lines[2])] == ["1", "2"]
    with structlog.testing.capture_logs() as logs:
        again = DecisionLog(log.path)
    assert [await again.append(remark(n)) for n in (1, 2)] == [False, False], "both kept"
    (torn,) = [e for e in logs if e["event"] == "decision_log.torn_line"]
    assert torn["line"] == '{"id": "99", "platf'


async def test_concurrent_deliveries_of_one_remark_write_one_line(tmp_path: Path) -> None:
    log = DecisionLog(tmp_path / "decisions.jsonl")
    results = await asyncio.gather(*(log.append(remark(n % 50)) for n in range(500)))
    assert results.count(True) == 50
    assert sorted(ids(log.path), key=int) == [str(n) for n in range(50)]


async def test_a_restart_remembers_what_was_logged(tmp_path: Path) -> None:
    path = tmp_path / "decisions.jsonl"
    first = DecisionLog(path)
    for n in range(3):
        await first.append(remark(n))
    again = DecisionLog(path)
    assert [await again.append(remark(n)) for n in range(4)] == [False, False, False, True]
    assert ids(path) == ["0", "1", "2", "3"]


async def test_a_line_torn_by_a_crash_is_skipped_and_not_glued_to_the_next(
    tmp_path: Path,
) -> None:
    path = tmp_path / "decisions.jsonl"
    path.write_text(json.dumps(remark(1)) + "\n" + '{"id": "2", "platf')
    log = DecisionLog(path)
    assert await log.append(remark(1)) is False
    assert await log.append(remark(2)) is True, "the torn line never counted"
    lines = path.read_text().splitlines()
    assert lines[1] == '{"id": "2", "platf'
    assert json.loads(lines[2])["id"] == "2"


async def test_only_the_most_recent_keys_are_kept(tmp_path: Path) -> None:
    log = DecisionLog(tmp_path / "decisions.jsonl", remember=2)
    for n in range(3):
        await log.append(remark(n))
    assert await log.append(remark(2)) is False
    assert await log.append(remark(0)) is True, "forgotten: memory stays bounded"


async def test_a_failed_write_raises_and_is_not_remembered(tmp_path: Path) -> None:
    blocked = tmp_path / "decisions.jsonl"
    log = DecisionLog(blocked)
    blocked.mkdir()  # a directory where the file should be: every write fails
    with pytest.raises(OSError):
        await log.append(remark(1))
    blocked.rmdir()
    assert await log.append(remark(1)) is True, "the redelivery is written this time"
    assert ids(blocked) == ["1"]


async def test_a_full_disk_fails_every_waiter_and_the_writer_lives_on(tmp_path: Path) -> None:
    full = tmp_path / "decisions.jsonl"
    full.symlink_to("/dev/full")  # every write: ENOSPC
    log = DecisionLog(full)
    outcomes = await asyncio.gather(
        *(log.append(remark(n)) for n in range(5)), return_exceptions=True
    )
    assert all(isinstance(o, OSError) for o in outcomes), outcomes
    full.unlink()
    assert await log.append(remark(1)) is True, "not remembered, so the retry is written"
    lines = full.read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines if line] == ["1"]


async def test_an_id_that_is_not_valid_unicode_is_escaped_not_fatal(tmp_path: Path) -> None:
    log = DecisionLog(tmp_path / "decisions.jsonl")
    results = await asyncio.gather(
        log.append(remark(1)), log.append({"id": "a\ud800", "platform": "x"})
    )
    assert list(results) == [True, True]
    assert ids(log.path) == ["1", "a\ud800"], "read back as it came"

"""The local actions outbox keeps the webhook contract: signed, once per key, logged."""

from __future__ import annotations

import json
from pathlib import Path

from complaintflow.activities.webhook import sign
from complaintflow.devkit.outbox import Outbox


def test_each_key_is_done_once_and_bad_input_is_refused(tmp_path: Path) -> None:
    seen: list[str] = []
    outbox = Outbox("k", tmp_path / "actions.jsonl", on_action=lambda a, _: seen.append(a))
    body = json.dumps({"case_id": "c1", "text": "hello"}).encode()
    good = sign(b"k", body)
    assert outbox.receive("post_reply", "c1/reply", good, body) == (
        200,
        {"ref": "post_reply-1", "detail": "done"},
    )
    assert outbox.receive("post_reply", "c1/reply", good, body) == (
        200,
        {"ref": "post_reply-1", "detail": "already done"},
    )
    assert outbox.receive("post_reply", "c1/other", sign(b"wrong", body), body)[0] == 401
    assert outbox.receive("post_reply", "c1/x", sign(b"k", b"[1"), b"[1")[0] == 400
    assert outbox.receive("post_reply", "", good, body)[0] == 400
    lines = (tmp_path / "actions.jsonl").read_text().splitlines()
    assert [json.loads(line)["endpoint"] for line in lines] == ["post_reply"]
    assert seen == ["post_reply"]
    outbox.stop()

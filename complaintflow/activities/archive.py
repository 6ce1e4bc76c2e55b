"""The complaint archive: an append-only JSON-lines file per month, written (and fsynced)
before any public post is hidden or deleted."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from complaintflow.workflows.messages import ActionRequest, ActionResult

if TYPE_CHECKING:
    from complaintflow.activities.operations import OperationsConfig


async def archive(config: OperationsConfig, request: ActionRequest) -> ActionResult:
    """Keep a copy of the public complaint before it is hidden or deleted."""
    record = {
        "archived_at": datetime.now(UTC).isoformat(),
        "case_id": request.case_id,
        "platform": request.platform,
        "post_id": request.mention_id,
        "thread_id": request.thread_id,
        "author": request.author_handle,
        "text": request.text,
    }
    path = config.archive_dir / f"{datetime.now(UTC):%Y-%m}.jsonl"
    await asyncio.to_thread(_append, path, json.dumps(record, ensure_ascii=False))
    return ActionResult(f"{path.name}:{request.mention_id}", "archived")


def _append(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as archive:
        archive.write(line + "\n")
        archive.flush()
        os.fsync(archive.fileno())

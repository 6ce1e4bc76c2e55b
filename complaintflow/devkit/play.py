"""Plays a stream of mentions (the bundled sample, a CSV or JSON lines) into ingest as signed
webhooks, as a platform would: for the dev stack, demos and load tests."""

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from complaintflow.devkit import sample_stream_path
from complaintflow.learning.files import read_mentions
from complaintflow.rules.mention import Mention
from complaintflow.signatures import sign


@dataclasses.dataclass(frozen=True)
class Played:
    """How a stream went: cases opened, remarks logged, mentions refused."""

    cases: int = 0
    logged: int = 0
    refused: int = 0


async def play_stream(
    ingest_url: str,
    secret: str,
    *,
    stream: Path | None = None,
    text_column: str = "text",
    id_column: str | None = None,
    limit: int = 0,
    before_post: Callable[[Mention], None] | None = None,
    decided: Callable[[Mention, dict[str, Any]], None] | None = None,
    report: Callable[[str], None] = print,
) -> Played:
    """Post each mention to `{ingest_url}/webhooks/generic`; times are set to now (so SLA
    clocks start when played, not when the sample was written). `decided` hears ingest's
    decision on each mention (the case it opened, or none)."""
    source = stream or sample_stream_path()
    cases = logged = refused = 0
    async with httpx.AsyncClient(base_url=ingest_url.rstrip("/"), timeout=30.0) as http:
        for number, recorded in enumerate(
            read_mentions(source, text_column=text_column, id_column=id_column), 1
        ):
            if limit and number > limit:
                break
            mention = dataclasses.replace(recorded, created_at=datetime.now(UTC).isoformat())
            if before_post is not None:
                before_post(mention)
            body = json.dumps(mention.to_dict()).encode()
            answer = await http.post(
                "/webhooks/generic",
                content=body,
                headers={"x-complaintflow-signature": sign(secret.encode(), body)},
            )
            first_words = " ".join(mention.text.split())[:60]
            if answer.status_code != 200:
                refused += 1
                report(f"  ! ingest answered {answer.status_code}: {answer.text[:120]}")
                continue
            (decision,) = answer.json()["decisions"]
            if decided is not None:
                decided(mention, decision)
            cases, logged = _tally(decision, mention, first_words, cases, logged, report)
    return Played(cases, logged, refused)


def _tally(
    decision: dict[str, Any],
    mention: Mention,
    first_words: str,
    cases: int,
    logged: int,
    report: Callable[[str], None],
) -> tuple[int, int]:
    if "case" in decision:
        report(
            f"  ▶ {mention.platform:15} score {decision['score']:.2f}  "
            f"{decision['route']:10} case {decision['case']}: {first_words}"
        )
        return cases + 1, logged
    report(f"  · {mention.platform:15} score {decision['score']:.2f}  throwaway: {first_words}")
    return cases, logged + 1

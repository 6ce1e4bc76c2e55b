"""POST /remarks/open: a tool makes a logged remark into a case, as `complaintflow open` does.

Signed like /webhooks/generic (HMAC-SHA256 of the raw body in x-complaintflow-signature,
with COMPLAINTFLOW_WEBHOOK_SECRET). Body: {"mention_id": "...", "by": "dana",
"platform": "x", "playbook": "standard"} (platform and playbook optional).
"""

from __future__ import annotations

from typing import Any

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from temporalio.service import RPCError

from complaintflow.client.opening import CannotOpen, NoDecision, open_remark
from complaintflow.ingest.body import BadBody, parse_body
from complaintflow.ingest.service import Ingest
from complaintflow.ingest.webhooks import problem, signed_body
from complaintflow.store import StoreError

log = structlog.get_logger()
FIELDS = {"mention_id": 200, "by": 100, "platform": 20, "playbook": 100}


async def open_request(ingest: Ingest, request: Request) -> Response:
    """Answer one signed request to open a remark's case."""
    body = await signed_body(ingest, request)
    if isinstance(body, Response):
        return body
    try:
        asked = _fields(parse_body(body))
    except (BadBody, ValueError) as exc:
        return problem(400, str(exc))
    try:
        opened = await open_remark(
            ingest.client,
            ingest.store,
            ingest.policy,
            platform=asked.get("platform") or "x",
            mention_id=asked["mention_id"],
            by=asked["by"],
            playbook=asked.get("playbook") or None,
            task_queue=ingest.task_queue,
        )
    except NoDecision as exc:
        return problem(404, str(exc))
    except CannotOpen as exc:
        return problem(400, str(exc))
    except (RPCError, StoreError) as exc:
        log.error("ingest.open_failed", error=str(exc)[:300])
        return problem(503, "cannot open the case now; retry later")
    said = "opened" if opened.new else "already has this case"
    return JSONResponse({"case": opened.case_id, "opened": opened.new, "result": said})


def _fields(data: Any) -> dict[str, str]:
    """The request's fields, checked: text, bounded, mention_id and by present."""
    if not isinstance(data, dict):
        raise ValueError(f"the body must be a JSON object with {', '.join(FIELDS)}")
    for key, value in data.items():
        if key not in FIELDS:
            raise ValueError(f"unknown field {str(key)[:40]!r}; it takes {', '.join(FIELDS)}")
        if not isinstance(value, str):
            raise ValueError(f'"{key}" must be text')
        if len(value) > FIELDS[key]:
            raise ValueError(f'"{key}" is longer than {FIELDS[key]} characters')
    for key in ("mention_id", "by"):
        if not str(data.get(key, "")).strip():
            raise ValueError(f'"{key}" is required')
    return {str(k): str(v) for k, v in data.items()}

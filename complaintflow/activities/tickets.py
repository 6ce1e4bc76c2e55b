"""Helpdesk tickets: Zendesk (`POST /api/v2/tickets.json`, with an Idempotency-Key so a retried
step opens one ticket; the key lasts two hours, so a retry first looks the ticket up by its
external id) or a generic JSON webhook.
"""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING

import httpx

from complaintflow.platforms.http import may_have_run_before, post_json, send
from complaintflow.workflows.messages import ActionRequest, ActionResult

if TYPE_CHECKING:
    from complaintflow.activities.operations import OperationsConfig


async def open_ticket(
    config: OperationsConfig, client: httpx.AsyncClient, request: ActionRequest
) -> ActionResult:
    """Open a helpdesk ticket for the case, once per step."""
    subject = f"[{request.platform}] complaint case {request.case_id}"
    body = (
        f"Public complaint on {request.platform} (thread {request.thread_id}, post "
        f"{request.mention_id}) by @{request.author_handle}."
    )
    if request.target == "zendesk":
        credentials = f"{config.zendesk_email}/token:{config.zendesk_token}"
        auth = "Basic " + base64.b64encode(credentials.encode()).decode()
        tickets = config.zendesk_url.rstrip("/") + "/api/v2/tickets.json"
        tag = _step_tag(request.step_id)
        if may_have_run_before() and (
            existing := await _zendesk_ticket(config, client, tickets, auth, request.case_id, tag)
        ):
            return ActionResult(existing, "already opened")
        answer = await post_json(
            client,
            tickets,
            {
                "ticket": {
                    "subject": subject,
                    "comment": {"body": body},
                    "priority": request.priority or "normal",
                    "external_id": request.case_id,
                    "tags": [tag],
                }
            },
            {"Authorization": auth, "Idempotency-Key": request.key},
        )
        return ActionResult(str(answer.get("ticket", {}).get("id", "")))
    answer = await post_json(
        client,
        config.ticket_webhook_url,
        {
            "case_id": request.case_id,
            "subject": subject,
            "body": body,
            "priority": request.priority,
        },
        {"Idempotency-Key": request.key},
    )
    return ActionResult(str(answer.get("id", request.key)))


async def _zendesk_ticket(
    config: OperationsConfig,
    client: httpx.AsyncClient,
    tickets: str,
    auth: str,
    case_id: str,
    tag: str,
) -> str:
    """The id of the ticket this step opened, or "". Zendesk forgets an Idempotency-Key
    after two hours (https://developer.zendesk.com/api-reference/ticketing/introduction/
    #idempotency), and a retry can come later than that, so it looks the case's tickets
    up by external id (https://developer.zendesk.com/api-reference/ticketing/tickets/
    tickets/#list-tickets) and takes the one tagged with this step."""
    if not config.zendesk_url:
        return ""  # _post says what is missing
    found = await send(
        client,
        "GET",
        tickets,
        what="Zendesk list tickets",
        params={"external_id": case_id},
        headers={"Authorization": auth},
    )
    listed = found.get("tickets") if isinstance(found, dict) else None
    for ticket in listed if isinstance(listed, list) else []:
        if isinstance(ticket, dict) and tag in (ticket.get("tags") or []):
            return str(ticket.get("id", ""))
    return ""


def _step_tag(step_id: str) -> str:
    """The Zendesk tag naming the step that opened a ticket (tags are lower-case words;
    a case's tickets share its external id, the tag tells its steps apart)."""
    return "complaintflow_step_" + re.sub(r"[^a-z0-9_]", "_", step_id.lower())

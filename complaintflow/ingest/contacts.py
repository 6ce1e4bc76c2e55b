"""The customer's contact from a helpdesk, CRM or call centre: the case hears of it.

POST /webhooks/zendesk: a Zendesk webhook (a trigger on "ticket created" or "ticket updated
by the requester"), verified as Zendesk documents
(https://developer.zendesk.com/documentation/webhooks/verifying/): the
`X-Zendesk-Webhook-Signature` header is base64(HMAC-SHA256(secret, TIMESTAMP + BODY)) with
`X-Zendesk-Webhook-Signature-Timestamp` as TIMESTAMP, the secret in
COMPLAINTFLOW_ZENDESK_SECRET. The body is what the trigger's webhook action sends (JSON with
Zendesk placeholders, https://support.zendesk.com/hc/en-us/articles/4408886858138):
{"ticket": {"id": "{{ticket.id}}", "external_id": "{{ticket.external_id}}",
"subject": "{{ticket.title}}", "comment": "{{ticket.latest_public_comment}}"}}. The case is
the ticket's `external_id` (the case id complaintflow sets when it opens the ticket), else the
`{case.ref}` quoted in the subject or the comment.

POST /webhooks/contact: any other system, signed like /webhooks/generic (hex HMAC-SHA256 of
the body in x-complaintflow-signature): {"case": "CASE ID or REFERENCE", "channel": "email",
"text": "...", "at": "ISO 8601", "reference": "its own id"}.

Each answer is 2xx once the case took the signal: 404 when no open case matches, 400 with
the reason for a body that cannot be read, 503 when Temporal cannot take it now.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from temporalio.service import RPCError

from complaintflow.caseref import refs_in
from complaintflow.client.cases import key_part
from complaintflow.ingest.body import BadBody, parse_body
from complaintflow.ingest.service import MAX_CONTACT_TEXT, Ingest
from complaintflow.ingest.webhooks import problem, read_body, signed_body
from complaintflow.store import StoreError
from complaintflow.workflows.messages import CustomerContact

log = structlog.get_logger()
ZENDESK_SECRET = "COMPLAINTFLOW_ZENDESK_SECRET"
ZENDESK_SIGNATURE = "x-zendesk-webhook-signature"
ZENDESK_TIMESTAMP = "x-zendesk-webhook-signature-timestamp"
TICKET_FIELDS = {"id": 40, "external_id": 300, "subject": 500, "comment": 20_000}
CONTACT_FIELDS = {"case": 300, "channel": 20, "text": 20_000, "at": 40, "reference": 200}


def zendesk_signature(secret: str, timestamp: str, body: bytes) -> str:
    """What Zendesk sends in X-Zendesk-Webhook-Signature for `body` at `timestamp`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


async def zendesk(ingest: Ingest, request: Request) -> Response:
    """Answer one Zendesk webhook about a ticket the customer created or answered."""
    body = await read_body(request)
    if isinstance(body, Response):
        return body
    secret = ingest.secrets.get(ZENDESK_SECRET)
    stamp = request.headers.get(ZENDESK_TIMESTAMP, "")
    given = request.headers.get(ZENDESK_SIGNATURE, "")
    expected = zendesk_signature(secret, stamp, body) if secret and stamp else ""
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        log.warning("ingest.bad_signature", path=request.url.path)
        return problem(401, f"missing or wrong {ZENDESK_SIGNATURE} (with {ZENDESK_TIMESTAMP})")
    try:
        ticket = _fields(_object(parse_body(body)).get("ticket"), TICKET_FIELDS, "ticket")
    except (BadBody, ValueError) as exc:
        return problem(400, str(exc))
    brand = ingest.policy.brand.name
    quoted = refs_in(f"{ticket.get('subject', '')}\n{ticket.get('comment', '')}", brand)
    candidates = [ticket["external_id"]] if ticket.get("external_id") else []
    contact = CustomerContact(
        channel="email",
        reference=f"zendesk ticket {ticket.get('id', '')}".strip(),
        text=ticket.get("comment", "")[:MAX_CONTACT_TEXT],
    )
    return await _deliver(ingest, [*candidates, *quoted], contact)


async def generic(ingest: Ingest, request: Request) -> Response:
    """Answer one signed contact from any other system."""
    body = await signed_body(ingest, request)
    if isinstance(body, Response):
        return body
    try:
        asked = _fields(parse_body(body), CONTACT_FIELDS, "the body")
        if not asked.get("case", "").strip():
            raise ValueError('"case" is required: the case id or its reference')
    except (BadBody, ValueError) as exc:
        return problem(400, str(exc))
    contact = CustomerContact(
        channel=asked.get("channel") or "email",
        reference=asked.get("reference", ""),
        text=asked.get("text", "")[:MAX_CONTACT_TEXT],
        at=asked.get("at", ""),
    )
    return await _deliver(ingest, [asked["case"].strip().upper(), asked["case"].strip()], contact)


async def _deliver(ingest: Ingest, names: list[str], contact: CustomerContact) -> Response:
    """Signal `contact` to the first open case `names` (case ids or references) point at."""
    policy = ingest.policy.name
    # Only this policy's case workflows are signalled: an id from outside never reaches a
    # workflow of another kind, nor another brand's case.
    own = f"@{key_part(policy)}"
    try:
        for name in dict.fromkeys(n for n in names if n):
            found = await ingest.store.case_for_ref(name, policy=policy)
            mine = name.startswith("case-") and name.endswith(own)
            for case_id in (found,) if found else (name,) if mine else ():
                if await ingest.signal_contact(case_id, contact):
                    log.info("contact.received", channel=contact.channel, case_id=case_id)
                    return JSONResponse({"case": case_id, "channel": contact.channel})
    except (RPCError, StoreError) as exc:
        log.error("ingest.contact_failed", error=str(exc)[:300])
        return problem(503, "cannot tell the case now; retry later")
    return problem(404, "no open case matches its external_id, case id or reference")


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def _fields(data: Any, fields: dict[str, int], where: str) -> dict[str, str]:
    """`data`'s fields, checked: an object of known, bounded text fields."""
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be a JSON object with {', '.join(fields)}")
    out: dict[str, str] = {}
    for key, given in data.items():
        if key not in fields:
            raise ValueError(
                f"unknown field {str(key)[:40]!r} in {where}; it takes {', '.join(fields)}"
            )
        # Zendesk writes ids as numbers when a placeholder is not quoted.
        numeric = isinstance(given, int) and not isinstance(given, bool)
        value = str(given) if numeric else given
        if not isinstance(value, str):
            raise ValueError(f'"{key}" in {where} must be text')
        if len(value) > fields[key]:
            raise ValueError(f'"{key}" in {where} is longer than {fields[key]} characters')
        out[key] = value
    return out

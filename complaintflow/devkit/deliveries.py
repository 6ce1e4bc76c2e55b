"""What the emulated platforms and helpdesk send to ingest when a customer writes privately:
X Direct Messages, Messenger and Instagram messages, and a Zendesk ticket the customer created
by email; each built and signed as its documentation shows, delivered now or after a delay.

The payloads follow the documentation, never ingest (tests/ingest/test_documented_private_
payloads.py holds the documented examples both sides are checked against):

- X Account Activity `direct_message_events`, with the `users` map and `for_user_id`,
  signed in `x-twitter-webhooks-signature`: "sha256=" + base64(HMAC-SHA256(consumer secret,
  body)) (https://docs.x.com/x-api/enterprise/account-activity-api/guides/account-activity-
  data-objects; https://docs.x.com/x-api/enterprise/account-activity-api/guides/securing-
  webhooks).
- Messenger: {"object": "page", "entry": [{"id": PAGE_ID, "time", "messaging": [{"sender":
  {"id": PSID}, "recipient": {"id": PAGE_ID}, "timestamp", "message": {"mid", "text"}}]}]}
  (https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages);
  Instagram messaging is the same with "object": "instagram", the account's id and IGSIDs
  (https://developers.facebook.com/docs/instagram-platform/webhooks). Both signed in
  `X-Hub-Signature-256`: "sha256=" + hex HMAC-SHA256(app secret, body)
  (https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads).
- Zendesk: the JSON a trigger's webhook action sends for a ticket (placeholders filled in),
  signed in `X-Zendesk-Webhook-Signature`: base64(HMAC-SHA256(secret, TIMESTAMP + BODY)) with
  TIMESTAMP in `X-Zendesk-Webhook-Signature-Timestamp`
  (https://developer.zendesk.com/documentation/webhooks/verifying/).
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from complaintflow.platforms.emulation import EmulatorState
from complaintflow.platforms.meta.emulator import customer_writes
from complaintflow.signatures import sign

# The channels a customer can write on, as the control route and the dev stream name them.
MESSAGE_PLATFORMS = ("x", "facebook", "instagram")
EMAIL = "email"


@dataclasses.dataclass(frozen=True)
class Targets:
    """Where the deliveries go and what signs them: ingest's base URL, each source's secret
    (as ingest reads it from the environment) and the brand's receiving accounts."""

    ingest_url: str
    x_consumer_secret: str = ""
    meta_app_secret: str = ""
    zendesk_secret: str = ""
    x_user_id: str = ""
    page_id: str = ""
    instagram_id: str = ""


@dataclasses.dataclass(frozen=True)
class Delivery:
    """One signed webhook request: the path on ingest, the exact body, its headers."""

    path: str
    body: bytes
    headers: dict[str, str]


@dataclasses.dataclass(frozen=True)
class Delivered:
    """What ingest answered to a delivery (what the live view and the tests read)."""

    channel: str  # x, facebook, instagram or email
    sender: str
    status: int
    answer: dict[str, Any]

    @property
    def cases(self) -> list[str | None]:
        """The case each message or ticket reached (None: no open case took it)."""
        if self.channel == EMAIL:
            return [self.answer.get("case")] if self.status < 300 else [None]
        return [c.get("case") for c in self.answer.get("contacts", []) if isinstance(c, dict)]


# -- the payloads, as documented ----------------------------------------------------------------


def x_direct_message(
    *,
    brand_id: str,
    sender_id: str,
    event_id: str,
    text: str,
    at: float,
    screen_name: str = "",
    name: str = "",
) -> dict[str, Any]:
    """An Account Activity delivery of one Direct Message from `sender_id` to the brand: a
    `message_create` event (created_timestamp in milliseconds, as text) and the `users` map
    describing both participants (account-activity-data-objects, direct_message_events)."""
    return {
        "for_user_id": brand_id,
        "direct_message_events": [
            {
                "type": "message_create",
                "id": event_id,
                "created_timestamp": str(int(at * 1000)),
                "message_create": {
                    "target": {"recipient_id": brand_id},
                    "sender_id": sender_id,
                    "message_data": {"text": text, "entities": _no_entities()},
                },
            }
        ],
        "users": {
            sender_id: _x_user(sender_id, screen_name or f"user{sender_id}", name),
            brand_id: _x_user(brand_id, "brand", "Brand"),
        },
    }


def _no_entities() -> dict[str, list[Any]]:
    return {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []}


def _x_user(user_id: str, screen_name: str, name: str) -> dict[str, Any]:
    return {
        "id": user_id,
        "created_timestamp": "1422556069340",
        "name": name or screen_name,
        "screen_name": screen_name,
        "protected": False,
        "verified": False,
        "followers_count": 0,
        "friends_count": 0,
        "statuses_count": 0,
    }


def meta_message(
    *, platform: str, account_id: str, sender_id: str, mid: str, text: str, at: float
) -> dict[str, Any]:
    """A Messenger (platform "facebook", `sender_id` a PSID) or Instagram (an IGSID) webhook
    delivery of one message the customer sent to the brand's account."""
    stamp = int(at * 1000)
    return {
        "object": "instagram" if platform == "instagram" else "page",
        "entry": [
            {
                "id": account_id,
                "time": stamp,
                "messaging": [
                    {
                        "sender": {"id": sender_id},
                        "recipient": {"id": account_id},
                        "timestamp": stamp,
                        "message": {"mid": mid, "text": text},
                    }
                ],
            }
        ],
    }


def zendesk_ticket(ticket: dict[str, Any]) -> dict[str, Any]:
    """The body of the trigger's webhook for `ticket`: {"ticket": {"id", "external_id",
    "subject", "comment"}}, from {{ticket.id}}, {{ticket.external_id}}, {{ticket.title}} and
    {{ticket.latest_public_comment}} (https://support.zendesk.com/hc/en-us/articles/
    4408886858138, placeholders reference)."""
    return {
        "ticket": {
            "id": str(ticket["id"]),
            "external_id": str(ticket.get("external_id") or ""),
            "subject": str(ticket.get("subject", "")),
            "comment": str((ticket.get("comment") or {}).get("body", "")),
        }
    }


# -- signing ------------------------------------------------------------------------------------


def signed_x(payload: dict[str, Any], secret: str) -> Delivery:
    body = json.dumps(payload).encode()
    signature = sign(secret.encode(), body, encoding="base64")
    return Delivery("/webhooks/x", body, {"x-twitter-webhooks-signature": signature})


def signed_meta(payload: dict[str, Any], secret: str) -> Delivery:
    body = json.dumps(payload).encode()
    return Delivery("/webhooks/meta", body, {"X-Hub-Signature-256": sign(secret.encode(), body)})


def zendesk_signature(secret: str, timestamp: str, body: bytes) -> str:
    """base64(HMACSHA256(TIMESTAMP + BODY)), as Zendesk documents it."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_zendesk(payload: dict[str, Any], secret: str, *, at: float) -> Delivery:
    body = json.dumps(payload).encode()
    # Zendesk's timestamps are ISO 8601 in UTC, e.g. 2021-08-06T16:09:31Z.
    stamp = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Delivery(
        "/webhooks/zendesk",
        body,
        {
            "X-Zendesk-Webhook-Signature": zendesk_signature(secret, stamp, body),
            "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        },
    )


# -- the outbox: customers writing, now or later --------------------------------------------


class Outbox:
    """Customers' private messages and emails, delivered to ingest as the platforms and the
    helpdesk would: each is also kept in the emulator's state (a DM in `messages`, an email
    as a new Zendesk ticket), then its webhook is sent, after `after` seconds if asked."""

    def __init__(
        self,
        state: EmulatorState,
        targets: Targets,
        *,
        told: Callable[[Delivered], None] | None = None,
    ) -> None:
        self.state = state
        self.targets = targets
        self.told = told
        self.delivered: list[Delivered] = []
        self._pending: set[asyncio.Task[Delivered]] = set()

    def message(
        self, platform: str, sender: str, text: str, *, after: float = 0.0, name: str = ""
    ) -> asyncio.Task[Delivered]:
        """`sender` writes `text` to the brand's account on `platform` in `after` seconds."""
        if platform not in MESSAGE_PLATFORMS:
            raise ValueError(f"platform must be one of {', '.join(MESSAGE_PLATFORMS)}")
        return self._later(after, lambda: self._message(platform, sender, text, name))

    def email(
        self, sender: str, subject: str, text: str, *, after: float = 0.0, external_id: str = ""
    ) -> asyncio.Task[Delivered]:
        """`sender` (an email address) writes to the brand's helpdesk in `after` seconds: a
        ticket is created, and its trigger's webhook sent."""
        return self._later(after, lambda: self._email(sender, subject, text, external_id))

    async def drain(self) -> list[Delivered]:
        """Wait for every delivery scheduled so far; what each answered."""
        done = await asyncio.gather(*self._pending)
        return list(done)

    def cancel(self) -> None:
        for task in self._pending:
            task.cancel()

    def _later(
        self, after: float, make: Callable[[], tuple[str, str, Delivery]]
    ) -> asyncio.Task[Delivered]:
        async def run() -> Delivered:
            if after > 0:
                await asyncio.sleep(after)
            channel, sender, delivery = make()
            return await self._send(channel, sender, delivery)

        task = asyncio.get_running_loop().create_task(run())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    def _message(
        self, platform: str, sender: str, text: str, name: str
    ) -> tuple[str, str, Delivery]:
        now = time.time()
        targets = self.targets
        if platform == "x":
            kept = self.state.add_message("x", sender, targets.x_user_id, text)
            payload = x_direct_message(
                brand_id=targets.x_user_id,
                sender_id=sender,
                event_id=kept["id"],
                text=text,
                at=now,
                name=name,
            )
            return platform, sender, signed_x(payload, targets.x_consumer_secret)
        account = targets.instagram_id if platform == "instagram" else targets.page_id
        kept = self.state.add_message(platform, sender, account, text)
        # The customer's message opens the Send API's standard messaging window (RESPONSE for
        # 24 hours): https://developers.facebook.com/docs/messenger-platform/send-messages
        # #messaging_types
        customer_writes(self.state, sender, now)
        kept["id"] = mid = f"m_{kept['id']}"  # Messenger message ids (mid) start with m_
        payload = meta_message(
            platform=platform, account_id=account, sender_id=sender, mid=mid, text=text, at=now
        )
        return platform, sender, signed_meta(payload, targets.meta_app_secret)

    def _email(
        self, sender: str, subject: str, text: str, external_id: str
    ) -> tuple[str, str, Delivery]:
        ticket = {
            "id": len(self.state.tickets) + 1,
            "subject": subject,
            "comment": {"body": text, "public": True},
            "requester": {"email": sender},
            "via": {"channel": "email"},
            "external_id": external_id or None,
        }
        self.state.tickets.append(ticket)
        payload = zendesk_ticket(ticket)
        return EMAIL, sender, signed_zendesk(payload, self.targets.zendesk_secret, at=time.time())

    async def _send(self, channel: str, sender: str, delivery: Delivery) -> Delivered:
        async with httpx.AsyncClient(base_url=self.targets.ingest_url, timeout=30.0) as http:
            try:
                answer = await http.post(
                    delivery.path,
                    content=delivery.body,
                    headers={**delivery.headers, "content-type": "application/json"},
                )
                status, body = answer.status_code, _json(answer)
            except httpx.HTTPError as exc:
                status, body = 0, {"error": f"{type(exc).__name__}: {exc}"}
        delivered = Delivered(channel, sender, status, body)
        self.delivered.append(delivered)
        if self.told is not None:
            self.told(delivered)
        return delivered


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        found = answer.json()
    except ValueError:
        return {"text": answer.text[:300]}
    return found if isinstance(found, dict) else {"answer": found}

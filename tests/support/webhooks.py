"""Webhook bodies and signatures as the platforms send them (X's account activity events,
Meta's and the generic sha256 hex signatures), and the ingest secrets the tests use."""

import base64
import hashlib
import hmac
import json

import httpx

from complaintflow.ingest.app import IngestSecrets

SECRETS = IngestSecrets(
    x_consumer_secret="x-secret",
    meta_app_secret="meta-secret",
    meta_verify_token="verify-me",
    generic_secret="generic-secret",
)
BRAND_X = "1500000000000000001"


def x_event(tweet_id: str, text: str, *, user_id: str = "777") -> dict[str, object]:
    return {
        "for_user_id": BRAND_X,
        "tweet_create_events": [
            {
                "id_str": tweet_id,
                "text": text,
                "created_at": "Sun Nov 22 10:00:00 +0000 2026",
                "user": {
                    "id_str": user_id,
                    "screen_name": "jo_r",
                    "name": "Jo",
                    "followers_count": 180,
                },
            }
        ],
    }


def feed_comment(
    comment_id: str,
    message: str | None,
    *,
    post_id: str,
    author: tuple[str, str] = ("888", "Chris"),
    **extra: object,
) -> dict[str, object]:
    """One change of a Page's `feed` field announcing a new comment on `post_id` (Meta
    webhooks, Page feed); `message` None is a comment without text (a photo)."""
    value: dict[str, object] = {
        "item": "comment",
        "verb": "add",
        "comment_id": comment_id,
        "post_id": post_id,
        "parent_id": post_id,
        "from": {"id": author[0], "name": author[1]},
        **extra,
    }
    if message is not None:
        value["message"] = message
    return {"field": "feed", "value": value}


def page_delivery(page: str, *changes: object, **entry: object) -> dict[str, object]:
    """A Meta `page` webhook delivery: one entry for `page` holding `changes`."""
    return {"object": "page", "entry": [{"id": page, **entry, "changes": list(changes)}]}


def x_signature(body: bytes, secret: str = "x-secret") -> str:
    return (
        "sha256="
        + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    )


def hex_signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def post_x(
    http: httpx.AsyncClient, payload: object, *, signature: str | None = None
) -> httpx.Response:
    body = json.dumps(payload).encode()
    return await http.post(
        "/webhooks/x",
        content=body,
        headers={
            "x-twitter-webhooks-signature": x_signature(body) if signature is None else signature
        },
    )


STAMP = "2026-12-03T10:00:00Z"


def zendesk_headers(body: bytes, secret: str = "zd-secret", stamp: str = STAMP) -> dict[str, str]:
    """The headers Zendesk sends: the signature is base64(HMACSHA256(TIMESTAMP + BODY))."""
    digest = hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()
    return {
        "X-Zendesk-Webhook-Signature": base64.b64encode(digest).decode(),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }


async def post_zendesk(http: httpx.AsyncClient, ticket: object, **headers: str) -> httpx.Response:
    body = json.dumps({"ticket": ticket}).encode()
    return await http.post(
        "/webhooks/zendesk", content=body, headers={**zendesk_headers(body), **headers}
    )

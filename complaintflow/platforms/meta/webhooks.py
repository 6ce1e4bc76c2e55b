"""Meta's webhooks: Page feed and Instagram comment changes -> Mentions (and Messenger and
Instagram `messaging` events -> private messages, kind "dm"), signed with the app
secret (x-hub-signature-256, hex), with the hub.verify_token challenge; the brand's own
comments are dropped; the receiving account is each entry's `id`.
"""

import hmac
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from complaintflow.errors import IngestError
from complaintflow.platforms.payload import (
    EARLIEST,
    FIRST_TIME,
    LAST_TIME,
    LATEST,
    MESSAGE_ID,
    PRIVATE,
    Addressed,
    Mentions,
    SecretOf,
    Unusable,
    WebhookSource,
    json_list,
    json_object,
    json_text,
    platform_id,
    user_id,
)
from complaintflow.rules.mention import Author, Mention
from complaintflow.rules.model import CompiledPolicy


def from_meta(payload: Any, policy: CompiledPolicy) -> Mentions:
    """Comments on the brand's Facebook Page or Instagram media; its own are ignored. A change
    that cannot become a mention (a photo-only comment, an Instagram `mentions` change, which
    carries only {media_id, comment_id}) is skipped and reported; the others are kept."""
    body = json_object(payload, "the body")
    kind = body.get("object")
    if kind not in ("page", "instagram"):
        raise IngestError('"object" must be "page" or "instagram"')
    platform = "facebook" if kind == "page" else "instagram"
    mentions = Mentions()
    for e, entry in enumerate(json_list(body.get("entry"), "entry")):
        try:
            changes = json_list(
                json_object(entry, f"entry[{e}]").get("changes"), f"entry[{e}].changes"
            )
            messaging = json_list(entry.get("messaging"), f"entry[{e}].messaging")
        except Exception as exc:
            mentions.skip(f"entry[{e}]", exc)
            continue
        for m, event in enumerate(messaging):
            where = f"entry[{e}].messaging[{m}]"
            try:
                message = _meta_message(event, where, platform, policy)
            except Exception as exc:
                mentions.skip(where, exc)
                continue
            if message is not None:
                mentions.append(message)
        for c, change in enumerate(changes):
            where = f"entry[{e}].changes[{c}]"
            try:
                mention = _meta_change(change, where, platform, policy)
            except Unusable as exc:
                mentions.ignored.append(str(exc))
                continue
            except Exception as exc:
                mentions.skip(where, exc)
                continue
            if mention is not None:
                mentions.append(mention)
    return mentions


def _meta_change(change: Any, where: str, platform: str, policy: CompiledPolicy) -> Mention | None:
    account = policy.account(platform)
    own = account.id if account else ""
    field = json_object(change, where).get("field")
    value = json_object(change.get("value"), f"{where}.value")
    where = f"{where}.value"
    if platform == "instagram" and field == "mentions":
        # https://developers.facebook.com/docs/graph-api/webhooks/reference/instagram
        # (mentions): only media_id and comment_id; the text must be fetched separately.
        raise Unusable(
            f"{where}: an Instagram mention carries no text (comment_id "
            f"{str(value.get('comment_id', ''))[:40]!r}); it is not ingested"
        )
    if platform == "facebook" and (value.get("item") != "comment" or value.get("verb") != "add"):
        return None  # reactions, edits, the Page's own posts: not complaints
    sender = json_object(value.get("from") or {}, f"{where}.from")
    sender_id = json_text(sender.get("id", ""), f"{where}.from.id")
    if sender_id == own:
        return None  # the brand's own comment
    user_id(platform, sender_id, f"{where}.from.id")
    comment_id = json_text(value.get("comment_id") or value.get("id") or "", f"{where}.comment_id")
    text = json_text(value.get("message") or value.get("text") or "", f"{where}.message")
    if not comment_id:
        raise IngestError(f"{where} needs a comment id")
    platform_id(platform, comment_id, f"{where}.comment_id")
    if not text:
        raise Unusable(
            f"{where}: comment {comment_id[:40]!r} has no text (a photo or sticker only)"
        )
    # A reply to a comment continues that comment's thread; a top-level comment
    # (parent = the brand's post) starts its own.
    parent = value.get("parent_id")
    thread = (
        platform_id(platform, json_text(parent, f"{where}.parent_id"), f"{where}.parent_id")
        if parent and parent != value.get("post_id")
        else comment_id
    )
    return Mention(
        id=comment_id,
        text=text,
        platform=platform,
        kind="comment",
        thread_id=thread,
        created_at=_unix_time(value.get("created_time"), f"{where}.created_time"),
        author=Author(
            id=sender_id,
            name=json_text(sender.get("name", ""), where),
            handle=json_text(sender.get("username", ""), where),
        ),
        addressed=True,  # a comment on the brand's own page or media
    )


def _meta_message(event: Any, where: str, platform: str, policy: CompiledPolicy) -> Mention | None:
    """A private message to the Page (Messenger) or the Instagram account (kind "dm"), from
    a `messaging` event; None for the brand's own (`is_echo`) and for delivery and read
    receipts, which are acknowledged and ignored.

    Shape (https://developers.facebook.com/docs/messenger-platform/webhooks and
    https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages;
    Instagram messaging is the same shape with IGSIDs,
    https://developers.facebook.com/docs/instagram-platform/webhooks): {"sender": {"id": PSID},
    "recipient": {"id": PAGE_ID}, "timestamp": ms, "message": {"mid", "text"?,
    "attachments"?, "is_echo"?}}.
    """
    account = policy.account(platform)
    own = account.id if account else ""
    item = json_object(event, where)
    message = item.get("message")
    if message is None:
        return None  # delivery, read, reaction, postback: nothing the customer wrote
    message = json_object(message, f"{where}.message")
    if message.get("is_echo") is True:
        return None  # the Page's own message, echoed back
    sender = json_text(
        json_object(item.get("sender"), f"{where}.sender").get("id", ""), f"{where}.sender.id"
    )
    if not sender or sender == own:
        return None
    user_id(platform, sender, f"{where}.sender.id")
    mid = json_text(message.get("mid", ""), f"{where}.message.mid")
    if not MESSAGE_ID.fullmatch(mid):
        raise IngestError(f"{where}.message.mid is missing or not a message id")
    text = json_text(message.get("text", ""), f"{where}.message.text")
    stamp = item.get("timestamp")
    seconds = stamp // 1000 if isinstance(stamp, int) and not isinstance(stamp, bool) else None
    return Mention(
        id=mid,
        text=text,  # "" for attachments alone: contact, not a complaint text
        platform=platform,
        kind=PRIVATE,
        thread_id=sender,  # the conversation with this customer
        created_at=_unix_time(seconds, f"{where}.timestamp"),
        author=Author(id=sender),
        addressed=True,
    )


def _unix_time(value: Any, where: str) -> str:
    """Meta's `created_time` (Unix seconds) as ISO 8601; "" when absent. A time outside the
    years ingest accepts makes the entry bad (it is skipped, the others are taken)."""
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return ""
    if not FIRST_TIME <= value <= LAST_TIME:
        raise IngestError(f"{where}: {value} is out of range (years {EARLIEST}-{LATEST - 1})")
    return datetime.fromtimestamp(value, UTC).isoformat()


def accounts(data: Any) -> list[Addressed]:
    """The accounts a delivery is for: each entry's Page or Instagram account id, with the
    entries addressed to it (one part per account, in the order first seen)."""
    if not isinstance(data, dict) or not isinstance(data.get("entry"), list):
        raise IngestError('the body must be an object with an "entry" list')
    platforms = ("instagram",) if data.get("object") == "instagram" else ("facebook",)
    by_account: dict[str, list[Any]] = {}
    for entry in data["entry"]:
        account = str(entry.get("id", "")) if isinstance(entry, dict) else ""
        by_account.setdefault(account, []).append(entry)
    if len(by_account) == 1:
        return [(platforms, next(iter(by_account)), data)]
    return [(platforms, a, {**data, "entry": entries}) for a, entries in by_account.items()]


def verify_subscription(secret: SecretOf, request: Request) -> Response:
    """Meta's subscription check: the hub.challenge echoed when the verify token matches."""
    params = request.query_params
    token = secret(VERIFY_TOKEN)
    if (
        params.get("hub.mode") != "subscribe"
        or not token
        or not hmac.compare_digest(
            params.get("hub.verify_token", "").encode("utf-8", "surrogatepass"),
            token.encode("utf-8", "surrogatepass"),
        )
    ):
        return JSONResponse({"error": "wrong hub.verify_token"}, status_code=403)
    return PlainTextResponse(params.get("hub.challenge", ""))


VERIFY_TOKEN = "COMPLAINTFLOW_META_VERIFY_TOKEN"
SOURCES = (
    # https://developers.facebook.com/docs/graph-api/webhooks/getting-started: a notification
    # that fails is retried "immediately, then ... with decreasing frequency over the next
    # 36 hours".
    WebhookSource(
        path="/webhooks/meta",
        header="x-hub-signature-256",
        encoding="hex",
        secret="COMPLAINTFLOW_META_APP_SECRET",
        parse=from_meta,
        accounts=accounts,
        challenge=verify_subscription,
        variables=(VERIFY_TOKEN,),
    ),
)

"""X's webhooks: Account Activity `tweet_create_events` -> Mentions (and
`direct_message_events` -> private messages, kind "dm"), signed with the consumer
secret (x-twitter-webhooks-signature, base64), with the CRC challenge; the brand's own posts,
retweets and quote posts are dropped; the receiving account is `for_user_id`.
"""

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from complaintflow.errors import IngestError
from complaintflow.platforms.payload import (
    FIRST_TIME,
    LAST_TIME,
    PRIVATE,
    Addressed,
    Mentions,
    SecretOf,
    WebhookSource,
    count,
    json_list,
    json_object,
    json_text,
    platform_id,
    user_id,
)
from complaintflow.rules.mention import Author, Mention
from complaintflow.rules.model import CompiledPolicy
from complaintflow.signatures import sign

X_TIME = "%a %b %d %H:%M:%S %z %Y"


def from_x(payload: Any, policy: CompiledPolicy) -> Mentions:
    """Mentions in an X Account Activity event; the brand's own tweets, retweets and quote
    posts are ignored; an event that cannot be read is skipped and reported."""
    body = json_object(payload, "the body")
    mentions = Mentions()
    for index, event in enumerate(
        json_list(body.get("tweet_create_events"), "tweet_create_events")
    ):
        where = f"tweet_create_events[{index}]"
        try:
            mention = _x_event(event, where, policy)
        except Exception as exc:
            mentions.skip(where, exc)
            continue
        if mention is not None:
            mentions.append(mention)
    listed = body.get("users")
    users: dict[str, Any] = listed if isinstance(listed, dict) else {}
    for index, event in enumerate(
        json_list(body.get("direct_message_events"), "direct_message_events")
    ):
        where = f"direct_message_events[{index}]"
        try:
            message = _x_message(event, where, policy, users)
        except Exception as exc:
            mentions.skip(where, exc)
            continue
        if message is not None:
            mentions.append(message)
    return mentions


def _x_message(
    event: Any, where: str, policy: CompiledPolicy, users: dict[str, Any]
) -> Mention | None:
    """A private message to the brand (kind "dm"), from an Account Activity
    `direct_message_events` entry; None for the brand's own messages and other event types.

    Shape (https://docs.x.com/x-api/enterprise/account-activity-api/guides/account-activity-data-objects):
    {"type": "message_create", "id", "created_timestamp" (ms, a string), "message_create":
    {"target": {"recipient_id"}, "sender_id", "message_data": {"text", "attachment"?}}}, the
    senders in the delivery's `users` map ({"<id>": {"id", "name", "screen_name", ...}}).
    """
    account = policy.account("x")
    brand = account.id if account else ""
    entry = json_object(event, where)
    if entry.get("type") != "message_create":
        return None  # e.g. a participant event: nothing said
    created = json_object(entry.get("message_create"), f"{where}.message_create")
    sender = json_text(created.get("sender_id", ""), f"{where}.message_create.sender_id")
    if not sender or sender == brand:
        return None  # the brand's own message (our DM, echoed back)
    user_id("x", sender, f"{where}.message_create.sender_id")
    message_id = platform_id("x", json_text(entry.get("id", ""), f"{where}.id"), f"{where}.id")
    data = json_object(created.get("message_data", {}), f"{where}.message_create.message_data")
    text = json_text(data.get("text", ""), f"{where}.message_create.message_data.text")
    found = users.get(sender)
    profile: dict[str, Any] = found if isinstance(found, dict) else {}
    return Mention(
        id=message_id,
        text=text,  # "" for an attachment alone: contact, not a complaint text
        platform="x",
        kind=PRIVATE,
        thread_id=sender,  # the conversation with this customer
        created_at=_x_millis(entry.get("created_timestamp")),
        author=Author(
            id=sender,
            handle=json_text(profile.get("screen_name", ""), f"{where}: users.screen_name"),
            name=json_text(profile.get("name", ""), f"{where}: users.name"),
        ),
        addressed=True,  # a private message is always to the brand
    )


def _x_millis(value: Any) -> str:
    """A `created_timestamp` (milliseconds since the epoch, as text) as ISO 8601; "" if
    unreadable."""
    text = value if isinstance(value, str) else str(value) if isinstance(value, int) else ""
    if not text.isdigit() or len(text) > 15:
        return ""
    seconds = int(text) // 1000
    if not FIRST_TIME <= seconds <= LAST_TIME:
        return ""
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def _x_event(event: Any, where: str, policy: CompiledPolicy) -> Mention | None:
    account = policy.account("x")
    brand = account.id if account else ""
    tweet = json_object(event, where)
    user = json_object(tweet.get("user"), f"{where}.user")
    author_id = json_text(user.get("id_str", ""), f"{where}.user.id_str")
    if author_id == brand:
        return None  # our own reply, echoed back
    # A retweet repeats a post (already seen, or not addressed to us); a quote post
    # comments on another post. Neither is a new complaint to answer in its thread
    # (v1.1 tweet object: retweeted_status, quoted_status / is_quote_status).
    if "retweeted_status" in tweet or tweet.get("is_quote_status") is True:
        return None
    text = (
        tweet.get("extended_tweet", {}).get("full_text")
        if isinstance(tweet.get("extended_tweet"), dict)
        else None
    )
    text = json_text(text or tweet.get("text", ""), f"{where}.text")
    tweet_id = json_text(tweet.get("id_str", ""), f"{where}.id_str")
    if not tweet_id or not text:
        raise IngestError(f"{where} needs id_str and text")
    platform_id("x", tweet_id, f"{where}.id_str")
    user_id("x", author_id, f"{where}.user.id_str")
    # The v1.1 payload has no conversation id: a reply's thread is the post it answers,
    # as the poller keys it too (referenced_tweets replied_to), so both agree.
    thread_field = (
        "conversation_id_str"
        if tweet.get("conversation_id_str")
        else "in_reply_to_status_id_str"
        if tweet.get("in_reply_to_status_id_str")
        else "id_str"
    )
    thread = json_text(tweet.get(thread_field), f"{where}.{thread_field}")
    return Mention(
        id=tweet_id,
        text=text,
        platform="x",
        kind="reply" if tweet.get("in_reply_to_status_id_str") else "post",
        thread_id=platform_id("x", thread, f"{where}.{thread_field}"),
        created_at=_x_time(tweet.get("created_at")),
        author=Author(
            id=author_id,
            handle=json_text(user.get("screen_name", ""), where),
            name=json_text(user.get("name", ""), where),
            followers=count(user.get("followers_count")),
            verified=user.get("verified") is True,
        ),
        reshares=count(tweet.get("retweet_count")),
        replies=count(tweet.get("reply_count")),
        likes=count(tweet.get("favorite_count")),
        addressed=bool(account and account.handle and f"@{account.handle.lower()}" in text.lower())
        or tweet.get("in_reply_to_user_id_str") == brand,
    )


def _x_time(value: Any) -> str:
    """X's `created_at` as ISO 8601; "" when absent or unreadable (the time is a hint)."""
    if isinstance(value, str):
        try:
            return datetime.strptime(value, X_TIME).isoformat()
        except ValueError:
            return ""
    return ""


def accounts(data: Any) -> list[Addressed]:
    """The account an Account Activity delivery is for: its `for_user_id`."""
    if not isinstance(data, dict):
        raise IngestError("the body must be a JSON object")
    return [(("x",), str(data.get("for_user_id", "")), data)]


def crc(secret: SecretOf, request: Request) -> Response:
    """X's challenge-response check: the crc_token signed with the consumer secret."""
    token = request.query_params.get("crc_token", "")
    consumer_secret = secret(CONSUMER_SECRET)
    if not token or not consumer_secret:
        return JSONResponse({"error": "crc_token is required"}, status_code=400)
    answer = sign(
        consumer_secret.encode(), token.encode("utf-8", "surrogatepass"), encoding="base64"
    )
    return JSONResponse({"response_token": answer})


CONSUMER_SECRET = "COMPLAINTFLOW_X_CONSUMER_SECRET"
SOURCES = (
    # https://developer.x.com/en/docs/x-api/enterprise/account-activity-api/guides/activity-retries:
    # "If a 'success' 200 HTTP response code is not received ... resending the webhook event
    # up to three times over a five-minute period".
    WebhookSource(
        path="/webhooks/x",
        header="x-twitter-webhooks-signature",
        encoding="base64",
        secret=CONSUMER_SECRET,
        parse=from_x,
        accounts=accounts,
        challenge=crc,
    ),
)

"""Platform webhook payloads -> Mentions. Pure: no I/O; a wrong shape raises IngestError.

X (Account Activity API `tweet_create_events`), Meta (Page feed comments, Instagram comments)
and the generic JSON shape (a Mention, or {"mentions": [...]}). Posts by the brand itself
(the platform echoing our own replies) and retweets/quotes are dropped here. In a batch, one
bad entry does not sink the others: whatever is wrong with an entry (a shape, an id, a time
out of range, a value nothing expected) skips that entry alone, listed in `Mentions.skipped`
(where and why); only a body that is wrong as a whole (its top level) raises.
"""

import dataclasses
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from complaintflow.errors import IngestError
from complaintflow.ingest.body import EARLIEST, LATEST
from complaintflow.rules.mention import Author, Mention, MentionError
from complaintflow.rules.model import CompiledPolicy
from complaintflow.rules.platform_spec import BadId, checked_author_id, checked_id

X_TIME = "%a %b %d %H:%M:%S %z %Y"
# The Unix times a post may carry: the years ingest accepts (body.EARLIEST to LATEST).
FIRST_TIME = int(datetime(EARLIEST, 1, 1, tzinfo=UTC).timestamp())
LAST_TIME = int(datetime(LATEST, 1, 1, tzinfo=UTC).timestamp()) - 1


class Mentions(list[Mention]):
    """The mentions read from one delivery, and the entries skipped (each "where: why"):
    `skipped` are malformed, `ignored` well-formed but not something to ingest (a comment
    with no text, an Instagram mention notification)."""

    def __init__(self) -> None:
        super().__init__()
        self.skipped: list[str] = []
        self.ignored: list[str] = []

    def reported(self) -> list[str]:
        return self.skipped + self.ignored

    def skip(self, where: str, problem: Exception) -> None:
        """Report the entry at `where` as skipped because of `problem`."""
        if isinstance(problem, IngestError):
            self.skipped.append(str(problem))
        else:  # a value no check foresaw: still this entry's problem, never the batch's
            self.skipped.append(f"{where}: a value cannot be read ({problem!s:.200})")


class _Unusable(IngestError):
    """A well-formed entry that cannot become a mention."""


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise IngestError(f"{where} must be a JSON object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise IngestError(f"{where} must be a list")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise IngestError(f"{where} must be a string")
    return str(value)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def from_x(payload: Any, policy: CompiledPolicy) -> Mentions:
    """Mentions in an X Account Activity event; the brand's own tweets, retweets and quote
    posts are ignored; an event that cannot be read is skipped and reported."""
    body = _object(payload, "the body")
    mentions = Mentions()
    for index, event in enumerate(_list(body.get("tweet_create_events"), "tweet_create_events")):
        where = f"tweet_create_events[{index}]"
        try:
            mention = _x_event(event, where, policy)
        except Exception as exc:
            mentions.skip(where, exc)
            continue
        if mention is not None:
            mentions.append(mention)
    return mentions


def _x_event(event: Any, where: str, policy: CompiledPolicy) -> Mention | None:
    account = policy.account("x")
    brand = account.id if account else ""
    tweet = _object(event, where)
    user = _object(tweet.get("user"), f"{where}.user")
    author_id = _text(user.get("id_str", ""), f"{where}.user.id_str")
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
    text = _text(text or tweet.get("text", ""), f"{where}.text")
    tweet_id = _text(tweet.get("id_str", ""), f"{where}.id_str")
    if not tweet_id or not text:
        raise IngestError(f"{where} needs id_str and text")
    _platform_id("x", tweet_id, f"{where}.id_str")
    _author_id("x", author_id, f"{where}.user.id_str")
    # The v1.1 payload has no conversation id: a reply's thread is the post it answers,
    # as the poller keys it too (referenced_tweets replied_to), so both agree.
    thread_field = (
        "conversation_id_str"
        if tweet.get("conversation_id_str")
        else "in_reply_to_status_id_str"
        if tweet.get("in_reply_to_status_id_str")
        else "id_str"
    )
    thread = _text(tweet.get(thread_field), f"{where}.{thread_field}")
    return Mention(
        id=tweet_id,
        text=text,
        platform="x",
        kind="reply" if tweet.get("in_reply_to_status_id_str") else "post",
        thread_id=_platform_id("x", thread, f"{where}.{thread_field}"),
        created_at=_x_time(tweet.get("created_at")),
        author=Author(
            id=author_id,
            handle=_text(user.get("screen_name", ""), where),
            name=_text(user.get("name", ""), where),
            followers=_count(user.get("followers_count")),
            verified=user.get("verified") is True,
        ),
        reshares=_count(tweet.get("retweet_count")),
        replies=_count(tweet.get("reply_count")),
        likes=_count(tweet.get("favorite_count")),
        addressed=bool(account and account.handle and f"@{account.handle.lower()}" in text.lower())
        or tweet.get("in_reply_to_user_id_str") == brand,
    )


def from_meta(payload: Any, policy: CompiledPolicy) -> Mentions:
    """Comments on the brand's Facebook Page or Instagram media; its own are ignored. A change
    that cannot become a mention (a photo-only comment, an Instagram `mentions` change, which
    carries only {media_id, comment_id}) is skipped and reported; the others are kept."""
    body = _object(payload, "the body")
    kind = body.get("object")
    if kind not in ("page", "instagram"):
        raise IngestError('"object" must be "page" or "instagram"')
    platform = "facebook" if kind == "page" else "instagram"
    mentions = Mentions()
    for e, entry in enumerate(_list(body.get("entry"), "entry")):
        try:
            changes = _list(_object(entry, f"entry[{e}]").get("changes"), f"entry[{e}].changes")
        except Exception as exc:
            mentions.skip(f"entry[{e}]", exc)
            continue
        for c, change in enumerate(changes):
            where = f"entry[{e}].changes[{c}]"
            try:
                mention = _meta_change(change, where, platform, policy)
            except _Unusable as exc:
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
    field = _object(change, where).get("field")
    value = _object(change.get("value"), f"{where}.value")
    where = f"{where}.value"
    if platform == "instagram" and field == "mentions":
        # https://developers.facebook.com/docs/graph-api/webhooks/reference/instagram
        # (mentions): only media_id and comment_id; the text must be fetched separately.
        raise _Unusable(
            f"{where}: an Instagram mention carries no text (comment_id "
            f"{str(value.get('comment_id', ''))[:40]!r}); it is not ingested"
        )
    if platform == "facebook" and (value.get("item") != "comment" or value.get("verb") != "add"):
        return None  # reactions, edits, the Page's own posts: not complaints
    sender = _object(value.get("from") or {}, f"{where}.from")
    sender_id = _text(sender.get("id", ""), f"{where}.from.id")
    if sender_id == own:
        return None  # the brand's own comment
    _author_id(platform, sender_id, f"{where}.from.id")
    comment_id = _text(value.get("comment_id") or value.get("id") or "", f"{where}.comment_id")
    text = _text(value.get("message") or value.get("text") or "", f"{where}.message")
    if not comment_id:
        raise IngestError(f"{where} needs a comment id")
    _platform_id(platform, comment_id, f"{where}.comment_id")
    if not text:
        raise _Unusable(
            f"{where}: comment {comment_id[:40]!r} has no text (a photo or sticker only)"
        )
    # A reply to a comment continues that comment's thread; a top-level comment
    # (parent = the brand's post) starts its own.
    parent = value.get("parent_id")
    thread = (
        _platform_id(platform, _text(parent, f"{where}.parent_id"), f"{where}.parent_id")
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
            name=_text(sender.get("name", ""), where),
            handle=_text(sender.get("username", ""), where),
        ),
        addressed=True,  # a comment on the brand's own page or media
    )


def from_generic(payload: Any) -> Mentions:
    """A Mention in complaintflow's own JSON shape, or {"mentions": [...]}: a lone mention
    that cannot be read raises (the whole body is wrong); a batch's bad entry is skipped."""
    batch = isinstance(payload, dict) and "mentions" in payload
    items = payload.get("mentions") if batch else [payload]
    mentions = Mentions()
    for index, item in enumerate(_list(items, "mentions")):
        try:
            mention = Mention.from_dict(item)
        except MentionError as exc:
            if not batch:
                raise IngestError(f"mentions[{index}]: {exc}") from None
            mentions.skipped.append(f"mentions[{index}]: {exc}")
            continue
        if not isinstance(item, dict) or "id" not in item:
            mention = dataclasses.replace(mention, id=content_id(item))
        mentions.append(mention)
    return mentions


def content_id(item: Any) -> str:
    """A stable id for a generic mention sent without one: a hash of what it says and who
    said it where, so a resent copy is recognised as the same mention and a different
    complaint gets its own id (and case)."""
    digest = hashlib.sha256(
        json.dumps(item, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()
    return f"content-{digest[:20]}"


def _platform_id(platform: str, value: str, where: str) -> str:
    """`value` if it has the platform's documented id shape (an id like "1_2/../3" would
    address another object once in a URL); else the entry is bad."""
    try:
        checked_id(platform, value)
    except BadId as exc:
        raise IngestError(f"{where}: {exc}") from None
    return value


def _author_id(platform: str, value: str, where: str) -> str:
    """`value` if it is empty or has the shape of the platform's user ids."""
    try:
        checked_author_id(platform, value)
    except BadId as exc:
        raise IngestError(f"{where}: {exc}") from None
    return value


def _x_time(value: Any) -> str:
    """X's `created_at` as ISO 8601; "" when absent or unreadable (the time is a hint)."""
    if isinstance(value, str):
        try:
            return datetime.strptime(value, X_TIME).isoformat()
        except ValueError:
            return ""
    return ""


def _unix_time(value: Any, where: str) -> str:
    """Meta's `created_time` (Unix seconds) as ISO 8601; "" when absent. A time outside the
    years ingest accepts makes the entry bad (it is skipped, the others are taken)."""
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return ""
    if not FIRST_TIME <= value <= LAST_TIME:
        raise IngestError(f"{where}: {value} is out of range (years {EARLIEST}-{LATEST - 1})")
    return datetime.fromtimestamp(value, UTC).isoformat()

"""Platform webhook payloads -> Mentions. Pure: no I/O; a wrong shape raises IngestError.

X (Account Activity API `tweet_create_events`), Meta (Page feed comments, Instagram comments)
and the generic JSON shape (a Mention, or {"mentions": [...]}). Posts by the brand itself
(the platform echoing our own replies) are dropped here.
"""

from datetime import UTC, datetime
from typing import Any

from complaintflow.errors import IngestError
from complaintflow.rules.mention import Author, Mention, MentionError
from complaintflow.rules.model import CompiledPolicy

X_TIME = "%a %b %d %H:%M:%S %z %Y"


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


def from_x(payload: Any, policy: CompiledPolicy) -> list[Mention]:
    """Mentions in an X Account Activity event; the brand's own tweets are ignored."""
    body = _object(payload, "the body")
    account = policy.account("x")
    brand = account.id if account else ""
    mentions = []
    for index, event in enumerate(_list(body.get("tweet_create_events"), "tweet_create_events")):
        where = f"tweet_create_events[{index}]"
        tweet = _object(event, where)
        user = _object(tweet.get("user"), f"{where}.user")
        author_id = _text(user.get("id_str", ""), f"{where}.user.id_str")
        if author_id == brand:
            continue  # our own reply, echoed back
        text = (
            tweet.get("extended_tweet", {}).get("full_text")
            if isinstance(tweet.get("extended_tweet"), dict)
            else None
        )
        text = _text(text or tweet.get("text", ""), f"{where}.text")
        tweet_id = _text(tweet.get("id_str", ""), f"{where}.id_str")
        if not tweet_id or not text:
            raise IngestError(f"{where} needs id_str and text")
        mentions.append(
            Mention(
                id=tweet_id,
                text=text,
                platform="x",
                kind="reply" if tweet.get("in_reply_to_status_id_str") else "post",
                thread_id=_text(
                    tweet.get("conversation_id_str")
                    or tweet.get("in_reply_to_status_id_str")
                    or tweet_id,
                    f"{where}.in_reply_to_status_id_str",
                ),
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
                addressed=bool(
                    account and account.handle and f"@{account.handle.lower()}" in text.lower()
                )
                or tweet.get("in_reply_to_user_id_str") == brand,
            )
        )
    return mentions


def from_meta(payload: Any, policy: CompiledPolicy) -> list[Mention]:
    """Comments on the brand's Facebook Page or Instagram media; its own are ignored."""
    body = _object(payload, "the body")
    kind = body.get("object")
    if kind not in ("page", "instagram"):
        raise IngestError('"object" must be "page" or "instagram"')
    platform = "facebook" if kind == "page" else "instagram"
    account = policy.account(platform)
    own = account.id if account else ""
    mentions = []
    for e, entry in enumerate(_list(body.get("entry"), "entry")):
        for c, change in enumerate(
            _list(_object(entry, f"entry[{e}]").get("changes"), f"entry[{e}].changes")
        ):
            where = f"entry[{e}].changes[{c}].value"
            value = _object(_object(change, where).get("value"), where)
            if platform == "facebook" and (
                value.get("item") != "comment" or value.get("verb") != "add"
            ):
                continue
            sender = _object(value.get("from") or {}, f"{where}.from")
            sender_id = _text(sender.get("id", ""), f"{where}.from.id")
            if sender_id == own:
                continue  # the brand's own comment
            comment_id = _text(
                value.get("comment_id") or value.get("id") or "", f"{where}.comment_id"
            )
            text = _text(value.get("message") or value.get("text") or "", f"{where}.message")
            if not comment_id or not text:
                raise IngestError(f"{where} needs a comment id and its text")
            # A reply to a comment continues that comment's thread; a top-level comment
            # (parent = the brand's post) starts its own.
            parent = value.get("parent_id")
            thread = (
                _text(parent, f"{where}.parent_id")
                if parent and parent != value.get("post_id")
                else comment_id
            )
            mentions.append(
                Mention(
                    id=comment_id,
                    text=text,
                    platform=platform,
                    kind="comment",
                    thread_id=thread,
                    created_at=_unix_time(value.get("created_time")),
                    author=Author(
                        id=sender_id,
                        name=_text(sender.get("name", ""), where),
                        handle=_text(sender.get("username", ""), where),
                    ),
                    addressed=True,  # a comment on the brand's own page or media
                )
            )
    return mentions


def from_generic(payload: Any) -> list[Mention]:
    """A Mention in complaintflow's own JSON shape, or {"mentions": [...]}."""
    items = (
        payload.get("mentions")
        if isinstance(payload, dict) and "mentions" in payload
        else [payload]
    )
    mentions = []
    for index, item in enumerate(_list(items, "mentions")):
        try:
            mentions.append(Mention.from_dict(item))
        except MentionError as exc:
            raise IngestError(f"mentions[{index}]: {exc}") from None
    return mentions


def _x_time(value: Any) -> str:
    if isinstance(value, str):
        try:
            return datetime.strptime(value, X_TIME).isoformat()
        except ValueError:
            return ""
    return ""


def _unix_time(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value, UTC).isoformat()
    return ""

"""Hostile-input checks for webhook bodies: size, encoding, nesting, numbers, lone surrogates,
and the limits a mention's fields must keep before it may become a case."""

import json
import math
import unicodedata
from datetime import datetime
from typing import Any

from complaintflow.errors import IngestError
from complaintflow.platforms.facts import CONTENT_ID, BadId, checked_author_id, checked_id
from complaintflow.platforms.payload import EARLIEST, LATEST, MESSAGE_ID, PRIVATE
from complaintflow.rules.mention import Mention

MAX_BODY = 256 * 1024
MAX_DEPTH = 32  # platform payloads nest a handful of levels
MAX_DIGITS = 30  # a count or timestamp never has more
MAX_ID_CHARS = 200  # ids become workflow ids (at most 1,000 bytes), keys and URLs
MAX_COUNT = 2**53


class BadBody(IngestError, ValueError):
    """A request body that can never be accepted; the message says why (a 400)."""


def _no_number(text: str) -> Any:
    raise BadBody(f"{text} is not a JSON number complaintflow accepts")


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise BadBody(f"a number of {len(text)} digits is too large")
    return int(text)


def _float(text: str) -> float:
    if len(text) > 2 * MAX_DIGITS:
        raise BadBody(f"a number of {len(text)} characters is too long")
    value = float(text)
    if not math.isfinite(value):
        raise BadBody(f"{text[:20]} is too large")
    return value


def parse_body(body: bytes) -> Any:
    """The JSON in `body`; BadBody naming what is wrong (encoding, syntax, depth, numbers)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadBody(f"the body is not UTF-8 (byte {exc.start})") from None
    _check_depth(text)  # nesting is checked before parsing: the parser recurses
    try:
        data = json.loads(text, parse_int=_integer, parse_float=_float, parse_constant=_no_number)
    except json.JSONDecodeError as exc:
        raise BadBody(f"the body is not JSON: {exc.msg} at position {exc.pos}") from None
    except RecursionError:
        raise BadBody(f"the body nests more than {MAX_DEPTH} levels deep") from None
    _check_strings(data)
    return data


def _check_depth(text: str) -> None:
    """Refuse JSON text whose brackets (outside strings) nest deeper than MAX_DEPTH."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                raise BadBody(f"the body nests more than {MAX_DEPTH} levels deep")
        elif char in "]}":
            depth -= 1


def _check_strings(data: Any) -> None:
    """Refuse text that cannot be stored or sent on (a lone surrogate from a \\ud800 escape)."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise BadBody("the body has text with a lone surrogate (\\uD800-\\uDFFF)") from None


def unfit(mention: Mention) -> str:
    """Why `mention` can never be taken (a 4xx), or "" when it can."""
    return _unfit_ids(mention) or _unfit_counts(mention) or _unfit_time(mention)


def _unfit_ids(mention: Mention) -> str:
    """Why an id of `mention` is not one its platform would send, or "". Every route's
    mentions pass here (generic ones included): the post and thread ids must have the
    platform's post id shape (or be an id ingest derived, `content-<hash>`), the author id
    its user id shape; a handle is plain text without controls or direction overrides."""
    for field, value in (("id", mention.id), ("thread_id", mention.thread_id)):
        if (field == "thread_id" and not value) or CONTENT_ID.fullmatch(value):
            continue
        if field == "id" and mention.kind == PRIVATE and MESSAGE_ID.fullmatch(value):
            continue  # a Messenger `mid`: a reference the case keeps, never put in a URL
        try:
            checked_id(mention.platform, value, field)
        except BadId as exc:
            return str(exc)
    try:
        checked_author_id(mention.platform, mention.author.id, "author.id")
    except BadId as exc:
        return str(exc)
    handle = mention.author.handle
    if len(handle) > MAX_ID_CHARS:
        return f"author.handle is {len(handle)} characters; at most {MAX_ID_CHARS}"
    if unsafe := next((c for c in handle if _invisible(c)), ""):
        return f"author.handle holds U+{ord(unsafe):04X} (a control or format character)"
    if len(mention.author.name) > 1000:
        return f"author.name is {len(mention.author.name)} characters; at most 1000"
    return ""


def _invisible(char: str) -> bool:
    """C0 and C1 controls (U+0085 too), format characters such as the bidi overrides and
    isolates (U+202A-202E, U+2066-2069) and marks (U+200E/F), line and paragraph separators:
    nothing a handle or id holds, and each can disguise what a person reads."""
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")


def _unfit_counts(mention: Mention) -> str:
    counts = {
        "author.followers": mention.author.followers,
        "reshares": mention.reshares,
        "replies": mention.replies,
        "likes": mention.likes,
        "rating": mention.rating,
        "repeat_contacts": mention.repeat_contacts,
    }
    for field, count in counts.items():
        if isinstance(count, int) and not 0 <= count <= MAX_COUNT:
            return f"{field} is out of range (0 to 2**53)"
    if mention.sentiment is not None and not -1.0 <= mention.sentiment <= 1.0:
        return "sentiment must be from -1 to 1"
    return ""


def _unfit_time(mention: Mention) -> str:
    if not mention.created_at:
        return ""
    try:
        when = datetime.fromisoformat(mention.created_at.replace("Z", "+00:00"))
    except ValueError:
        return f"created_at {mention.created_at[:40]!r} is not an ISO 8601 time"
    if not EARLIEST <= when.year < LATEST:
        return f"created_at {mention.created_at[:40]!r} is out of range"
    return ""

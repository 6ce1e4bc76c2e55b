"""A Mention: one public post about the brand, normalised from any platform, plus enrichment.

`Mention.from_dict` reads the JSON shape used by the CLI, test suites and ingest, and says
exactly which field is wrong when it cannot.
"""

import dataclasses
from collections.abc import Mapping
from typing import Any

from complaintflow.errors import MentionError as MentionError  # noqa: PLC0414 - re-exported
from complaintflow.platforms.facts import SPECS

PLATFORMS = tuple(SPECS)  # the platforms the spec table describes
# The kind of a private message to the brand (an X DM, a Messenger or Instagram message).
PRIVATE_KIND = "dm"


@dataclasses.dataclass(frozen=True)
class Author:
    id: str = ""
    handle: str = ""
    name: str = ""
    followers: int = 0
    verified: bool = False


@dataclasses.dataclass(frozen=True)
class Customer:
    """What the CRM knows about the author (filled by enrichment)."""

    known: bool = False
    tier: str = ""
    id: str = ""


@dataclasses.dataclass(frozen=True)
class Mention:
    """A post that mentions or addresses the brand."""

    id: str
    text: str
    platform: str = "x"
    kind: str = "post"
    thread_id: str = ""
    created_at: str = ""
    author: Author = dataclasses.field(default_factory=Author)
    customer: Customer = dataclasses.field(default_factory=Customer)
    reshares: int = 0
    replies: int = 0
    likes: int = 0
    rating: int = 0
    addressed: bool = False
    repeat_contacts: int = 0
    sentiment: float | None = None  # precomputed by enrichment; else computed from the text
    language: str | None = None  # ISO 639-1, precomputed by enrichment; else identified
    language_confidence: float | None = None  # 0..1, with `language`

    @property
    def private(self) -> bool:
        """Written privately to the brand (a DM): its case answers in that conversation."""
        return self.kind == PRIVATE_KIND

    @property
    def channel(self) -> str:
        """ "private" for a private message, "public" for a post, comment or review."""
        return "private" if self.private else "public"

    @property
    def thread(self) -> str:
        """The thread this post belongs to (its own id when it starts one)."""
        return self.thread_id or self.id

    @classmethod
    def from_dict(cls, data: Any) -> "Mention":
        """Read a mention from decoded JSON; raise MentionError naming the bad field."""
        if not isinstance(data, Mapping):
            raise MentionError("a mention must be a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise MentionError(
                f"unknown field {unknown[0]!r} in mention (known: {', '.join(sorted(known))})"
            )
        if not isinstance(data.get("text"), str):
            raise MentionError("mention.text is required and must be a string")
        values: dict[str, Any] = {
            "id": _text(data, "id", "mention", default="mention-1"),
            "text": data["text"],
        }
        values.update(_post_fields(data))
        values.update(_scores(data))
        if "author" in data:
            values["author"] = _author(data["author"])
        if "customer" in data:
            values["customer"] = _customer(data["customer"])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _language(value: Any) -> str:
    if not isinstance(value, str) or not (
        value == "" or (len(value) == 2 and value.isascii() and value.islower())
    ):
        raise MentionError("mention.language must be a two-letter ISO 639-1 code such as 'es'")
    return value


def _author(data: Any) -> Author:
    if not isinstance(data, Mapping):
        raise MentionError("mention.author must be an object")
    _no_unknown(data, Author, "mention.author")
    return Author(
        id=_text(data, "id", "mention.author"),
        handle=_text(data, "handle", "mention.author").lstrip("@"),
        name=_text(data, "name", "mention.author"),
        followers=_int(data, "followers", "mention.author"),
        verified=_bool(data, "verified", "mention.author"),
    )


def _customer(data: Any) -> Customer:
    if not isinstance(data, Mapping):
        raise MentionError("mention.customer must be an object")
    _no_unknown(data, Customer, "mention.customer")
    return Customer(
        known=_bool(data, "known", "mention.customer"),
        tier=_text(data, "tier", "mention.customer"),
        id=_text(data, "id", "mention.customer"),
    )


def _no_unknown(data: Mapping[str, Any], cls: Any, where: str) -> None:
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise MentionError(
            f"unknown field {unknown[0]!r} in {where} (known: {', '.join(sorted(known))})"
        )


def _text(data: Mapping[str, Any], name: str, where: str, default: str = "") -> str:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise MentionError(f"{where}.{name} must be a string")
    return str(value)


def _int(data: Mapping[str, Any], name: str, where: str) -> int:
    value = data.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MentionError(f"{where}.{name} must be a whole number >= 0")
    return value


def _bool(data: Mapping[str, Any], name: str, where: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise MentionError(f"{where}.{name} must be true or false")
    return value


def _post_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The post's kind, thread, time, platform and counts, where given."""
    values: dict[str, Any] = {}
    for name in ("kind", "thread_id", "created_at"):
        if name in data:
            values[name] = _text(data, name, "mention")
    if "platform" in data:
        platform = _text(data, "platform", "mention")
        if platform not in PLATFORMS:
            raise MentionError(
                f"mention.platform {platform!r} is not one of {', '.join(PLATFORMS)}"
            )
        values["platform"] = platform
    for name in ("reshares", "replies", "likes", "rating", "repeat_contacts"):
        if name in data:
            values[name] = _int(data, name, "mention")
    if "addressed" in data:
        values["addressed"] = _bool(data, "addressed", "mention")
    return values


def _number_in(value: Any, low: float, high: float) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and low <= value <= high


def _scores(data: Mapping[str, Any]) -> dict[str, Any]:
    """Sentiment and language as enrichment gave them, where given."""
    values: dict[str, Any] = {}
    if data.get("sentiment") is not None:
        value = data["sentiment"]
        if not _number_in(value, -1, 1):
            raise MentionError("mention.sentiment must be a number from -1 to 1")
        values["sentiment"] = float(value)
    if data.get("language") is not None:
        values["language"] = _language(data["language"])
        values["language_confidence"] = 1.0
    if data.get("language_confidence") is not None:
        value = data["language_confidence"]
        if not _number_in(value, 0, 1) or "language" not in values:
            raise MentionError(
                "mention.language_confidence must be a number from 0 to 1, "
                "given with mention.language"
            )
        values["language_confidence"] = float(value)
    return values

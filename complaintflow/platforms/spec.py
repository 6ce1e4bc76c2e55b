"""What complaintflow knows about a platform, as one record: each platform's folder fills one
(`platforms/<name>/facts.py`) from that platform's documentation. Pure data."""

from __future__ import annotations

import dataclasses
import re


@dataclasses.dataclass(frozen=True)
class PlatformSpec:
    """What complaintflow knows about one platform, each fact from its documentation."""

    name: str
    # The shape of a post/comment id as the platform issues it; anything else is refused
    # before it reaches a URL (an id like "1/../2" must not address another object).
    id_pattern: re.Pattern[str]
    id_example: str
    # The shape of the id of a post's author (a user id, never a handle); an author with no
    # id (a Google reviewer, a generic mention that gives none) is "".
    author_id_pattern: re.Pattern[str]
    reply_limit: int  # characters in a public reply
    message_limit: int  # characters in a private message
    removals: frozenset[str]  # what a brand may do to a customer's post on its own channel
    account_fields: tuple[str, str]  # brand.accounts.<platform>: id field, handle field
    # Whether brand.accounts.<platform> must give the handle field too (the id always).
    handle_required: bool
    docs: str  # where the contract was checked
    # What an id keeps unescaped in a URL path (a Google review name's slashes: the resource
    # path); everything else is escaped.
    id_keeps: str = ""
    # Whether the platform weighs characters against its limits (X: a URL counts 23, a CJK
    # character or an emoji 2; `rules.templates.x_length`) rather than counting code points.
    weighted_text: bool = False


@dataclasses.dataclass(frozen=True)
class Variable:
    """An environment variable a platform's parts read: its row in the settings table
    (complaintflow/settings.py), under the platform's heading or, for a webhook's secret,
    with ingest's."""

    name: str
    default: str  # the value used when it is unset
    read_by: str  # the commands or processes that read it
    does: str
    webhook: bool = False

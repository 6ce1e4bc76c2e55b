"""The per-platform facts in one table: ids, limits, removals, account fields, documentation.

Pure data, read by everything that needs a platform fact: adapters and ingest validate ids
against `id_pattern` before an id goes into a URL; the templates' limits, the compiler's
removals and account fields, the mention's platforms, the multi-brand router and the CLI's
choices come from here; tests hold the policy schema's enums to it.
"""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import quote

from complaintflow.errors import ComplaintflowError


@dataclasses.dataclass(frozen=True)
class PlatformSpec:
    """What complaintflow knows about one platform, each fact from its documentation."""

    name: str
    # The shape of a post/comment id as the platform issues it; anything else is refused
    # before it reaches a URL (an id like "1/../2" must not address another object).
    id_pattern: re.Pattern[str]
    id_example: str
    reply_limit: int  # characters in a public reply
    message_limit: int  # characters in a private message
    removals: frozenset[str]  # what a brand may do to a customer's post on its own channel
    account_fields: tuple[str, str]  # brand.accounts.<platform>: id field, handle field
    docs: str  # where the contract was checked


SPECS: dict[str, PlatformSpec] = {
    spec.name: spec
    for spec in (
        PlatformSpec(
            name="x",
            # Post ids are snowflakes, "unique identifier ... string" of digits
            # (https://docs.x.com/x-api/fundamentals/data-dictionary): up to 19 digits.
            id_pattern=re.compile(r"[0-9]{1,19}"),
            id_example="1460323737035677698",
            reply_limit=280,
            message_limit=10000,
            removals=frozenset({"hide"}),
            account_fields=("user_id", "handle"),
            docs="https://docs.x.com/x-api/posts/create-post",
        ),
        PlatformSpec(
            name="facebook",
            # Page post and comment ids are digits joined by "_" (PAGEID_POSTID, POSTID_COMMENTID)
            # (https://developers.facebook.com/docs/graph-api/reference/comment/).
            id_pattern=re.compile(r"[0-9]{1,32}(_[0-9]{1,32}){0,2}"),
            id_example="104_1592",
            reply_limit=8000,
            message_limit=2000,
            removals=frozenset({"hide", "delete"}),
            account_fields=("page_id", "name"),
            docs="https://developers.facebook.com/docs/graph-api/reference/comment/",
        ),
        PlatformSpec(
            name="instagram",
            # IG Comment ids are numeric strings (https://developers.facebook.com/docs/
            # instagram-platform/instagram-graph-api/reference/ig-comment).
            id_pattern=re.compile(r"[0-9]{1,32}"),
            id_example="17870913679156914",
            reply_limit=2200,
            message_limit=1000,
            removals=frozenset({"hide", "delete"}),
            account_fields=("account_id", "username"),
            docs="https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-comment",
        ),
        PlatformSpec(
            name="google_business",
            # A review's resource name: accounts/*/locations/*/reviews/* (https://developers.
            # google.com/my-business/reference/rest/v4/accounts.locations.reviews).
            id_pattern=re.compile(
                r"accounts/[0-9]{1,32}/locations/[0-9]{1,32}/reviews/[A-Za-z0-9_-]{1,256}"
            ),
            id_example="accounts/1/locations/2/reviews/AbC_9",
            reply_limit=4096,
            message_limit=4096,
            removals=frozenset(),
            account_fields=("location_id", "account_id"),
            docs="https://developers.google.com/my-business/reference/rest/v4/accounts.locations.reviews/updateReply",
        ),
    )
}


class BadId(ComplaintflowError, ValueError):
    """An id that does not have its platform's documented shape."""


def checked_id(platform: str, value: str, what: str = "id") -> str:
    """`value`, URL-escaped for a path, if it has `platform`'s id shape; else BadId."""
    spec = SPECS.get(platform)
    if spec is None:
        raise BadId(f"unknown platform {platform!r}")
    if not isinstance(value, str) or not spec.id_pattern.fullmatch(value):
        raise BadId(
            f"{what} {value!r} is not a {platform} id (expected the form {spec.id_example!r})"
        )
    # A Google review name keeps its slashes (they are the resource path); everything else
    # is escaped, so nothing in an id can change which object a URL addresses.
    return quote(value, safe="/" if platform == "google_business" else "")

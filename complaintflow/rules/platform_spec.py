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
    # The shape of the id of a post's author (a user id, never a handle); an author with no
    # id (a Google reviewer, a generic mention that gives none) is "".
    author_id_pattern: re.Pattern[str]
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
            # User ids are snowflakes too, "id ... string" of digits (data dictionary, user).
            author_id_pattern=re.compile(r"[0-9]{1,19}"),
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
            # `from.id` of a comment: a (page- or app-scoped) user or Page id, numeric
            # (https://developers.facebook.com/docs/graph-api/reference/comment/, `from`).
            author_id_pattern=re.compile(r"[0-9]{1,32}"),
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
            # `from.id` of an IG Comment: an Instagram-scoped user id, numeric (same page).
            author_id_pattern=re.compile(r"[0-9]{1,32}"),
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
            # A Review's `reviewer` has a display name and no id: what a sender gives as one
            # is held to a plain, URL-safe charset.
            author_id_pattern=re.compile(r"[A-Za-z0-9_-]{1,128}"),
            reply_limit=4096,
            message_limit=4096,
            removals=frozenset(),
            account_fields=("location_id", "account_id"),
            docs="https://developers.google.com/my-business/reference/rest/v4/accounts.locations.reviews/updateReply",
        ),
    )
}


# The id ingest derives for a generic mention sent without one (`content-` and a hash of the
# mention): the one id form that is no platform's.
CONTENT_ID = re.compile(r"content-[0-9a-f]{20}")


class BadId(ComplaintflowError, ValueError):
    """An id that does not have its platform's documented shape."""


def _shown(value: object) -> str:
    """`value` as a refusal quotes it: cut short, escaped (so a control character shows)."""
    text = value if isinstance(value, str) else repr(value)
    return ascii(text[:40]) + ("..." if len(text) > 40 else "")


def checked_id(platform: str, value: str, what: str = "id") -> str:
    """`value`, URL-escaped for a path, if it has `platform`'s id shape; else BadId."""
    spec = SPECS.get(platform)
    if spec is None:
        raise BadId(f"unknown platform {_shown(platform)}")
    if not isinstance(value, str) or not spec.id_pattern.fullmatch(value):
        raise BadId(
            f"{what} {_shown(value)} is not a {platform} id (expected the form {spec.id_example!r})"
        )
    # A Google review name keeps its slashes (they are the resource path); everything else
    # is escaped, so nothing in an id can change which object a URL addresses.
    return quote(value, safe="/" if platform == "google_business" else "")


def checked_author_id(platform: str, value: str, what: str = "author id") -> str:
    """`value` if it has the shape of `platform`'s user ids (or is empty: no id given)."""
    spec = SPECS.get(platform)
    if spec is None:
        raise BadId(f"unknown platform {_shown(platform)}")
    if not isinstance(value, str) or (value and not spec.author_id_pattern.fullmatch(value)):
        raise BadId(f"{what} {_shown(value)} is not a {platform} user id")
    return value

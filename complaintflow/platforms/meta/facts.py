"""Facebook Pages' and Instagram's facts: id shapes, text limits, what a brand may
remove, account fields, each from the platform's documentation.
Pure data, read through `platforms.facts.SPECS`."""

import re

from complaintflow.platforms.spec import PlatformSpec

SPECS: tuple[PlatformSpec, ...] = (
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
        handle_required=False,
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
        handle_required=False,
        docs="https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-comment",
    ),
)

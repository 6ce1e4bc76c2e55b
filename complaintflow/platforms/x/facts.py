"""X's facts: id shapes, text limits, what a brand may remove, account fields, each
from the platform's documentation.
Pure data, read through `platforms.facts.SPECS`."""

import re

from complaintflow.platforms.spec import PlatformSpec

SPECS: tuple[PlatformSpec, ...] = (
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
        handle_required=True,
        # "Counting characters" (https://docs.x.com/resources/fundamentals/counting-characters):
        # a URL counts 23, a CJK character or an emoji 2, most other characters 1.
        weighted_text=True,
        docs="https://docs.x.com/x-api/posts/create-post",
    ),
)

"""Google Business Profile's facts: id shapes, text limits, what a brand may remove,
account fields, each from the platform's documentation.
Pure data, read through `platforms.facts.SPECS`."""

import re

from complaintflow.platforms.spec import PlatformSpec

SPECS: tuple[PlatformSpec, ...] = (
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
        handle_required=True,  # a location's reviews are addressed under its account
        docs="https://developers.google.com/my-business/reference/rest/v4/accounts.locations.reviews/updateReply",
        id_keeps="/",
    ),
)

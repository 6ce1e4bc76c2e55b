"""The per-platform facts in one table (each platform's from its folder's `facts.py`): ids,
limits, removals, account fields, documentation.

Pure data, read by everything that needs a platform fact: adapters and ingest validate ids
against `id_pattern` before an id goes into a URL; the templates' limits, the compiler's
removals and account fields, the mention's platforms, the multi-brand router and the CLI's
choices come from here; tests hold the policy schema's enums to it.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from complaintflow.errors import ComplaintflowError
from complaintflow.platforms import registry
from complaintflow.platforms.spec import PlatformSpec

__all__ = ["CONTENT_ID", "SPECS", "BadId", "PlatformSpec", "checked_author_id", "checked_id"]


SPECS: dict[str, PlatformSpec] = {
    spec.name: spec for folder in registry.FOLDERS for spec in registry.facts(folder)
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
    # Everything but what the platform's ids keep (a Google review name's slashes: the
    # resource path) is escaped, so nothing in an id can change which object a URL addresses.
    return quote(value, safe=spec.id_keeps)


def checked_author_id(platform: str, value: str, what: str = "author id") -> str:
    """`value` if it has the shape of `platform`'s user ids (or is empty: no id given)."""
    spec = SPECS.get(platform)
    if spec is None:
        raise BadId(f"unknown platform {_shown(platform)}")
    if not isinstance(value, str) or (value and not spec.author_id_pattern.fullmatch(value)):
        raise BadId(f"{what} {_shown(value)} is not a {platform} user id")
    return value

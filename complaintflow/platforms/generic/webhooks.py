"""complaintflow's own webhook: a Mention in its JSON shape, or {"mentions": [...]}, signed
with the shared secret (x-complaintflow-signature, hex); `account` names the receiving
account on any platform.
"""

import dataclasses
import hashlib
import json
from typing import Any

from complaintflow.errors import IngestError
from complaintflow.platforms.facts import SPECS
from complaintflow.platforms.payload import (
    Addressed,
    Mentions,
    WebhookSource,
    json_list,
)
from complaintflow.rules.mention import Mention, MentionError
from complaintflow.rules.model import CompiledPolicy


def from_generic(payload: Any) -> Mentions:
    """A Mention in complaintflow's own JSON shape, or {"mentions": [...]}: a lone mention
    that cannot be read raises (the whole body is wrong); a batch's bad entry is skipped."""
    batch = isinstance(payload, dict) and "mentions" in payload
    items = payload.get("mentions") if batch else [payload]
    mentions = Mentions()
    for index, item in enumerate(json_list(items, "mentions")):
        try:
            mention = Mention.from_dict(item)
        except MentionError as exc:
            if not batch:
                raise IngestError(f"mentions[{index}]: {exc}") from None
            mentions.skipped.append(f"mentions[{index}]: {exc}")
            continue
        if not isinstance(item, dict) or "id" not in item:
            mention = dataclasses.replace(mention, id=content_id(item))
        mentions.append(mention)
    return mentions


def content_id(item: Any) -> str:
    """A stable id for a generic mention sent without one: a hash of what it says and who
    said it where, so a resent copy is recognised as the same mention and a different
    complaint gets its own id (and case)."""
    digest = hashlib.sha256(
        json.dumps(item, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()
    return f"content-{digest[:20]}"


def _parse(data: Any, _policy: CompiledPolicy) -> list[Mention]:
    return from_generic(data)


def accounts(data: Any) -> list[Addressed]:
    """The account a generic body names (`account`: on any platform), and the body without it."""
    if not isinstance(data, dict):
        raise IngestError("the body must be a JSON object")
    rest = {k: v for k, v in data.items() if k != "account"}
    return [(tuple(SPECS), str(data.get("account", "")), rest)]


SOURCES = (
    WebhookSource(
        path="/webhooks/generic",
        header="x-complaintflow-signature",
        encoding="hex",
        secret="COMPLAINTFLOW_WEBHOOK_SECRET",
        parse=_parse,
        accounts=accounts,
        refuse_when_nothing_taken=True,
    ),
)

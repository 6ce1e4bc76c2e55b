"""`complaintflow open`: a person makes a remark the policy logged as throwaway into a case,
and the decision is a label that it was a complaint.

The store keeps each remark's mention; the case opens with the playbook asked for or the
policy's last route (the lowest-priority one that answers), and the store notes its case, so
a second `open` (or a redelivery of the post) says which case it already has.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from temporalio.client import Client

from complaintflow.client.cases import open_case
from complaintflow.errors import ComplaintflowError
from complaintflow.learning.labels import Label
from complaintflow.rules.caseref import case_ref
from complaintflow.rules.compiler import UNREAD_ROUTE
from complaintflow.rules.mention import Mention, MentionError
from complaintflow.rules.model import CompiledPolicy
from complaintflow.rules.triage import Triage
from complaintflow.store import DecisionStore
from complaintflow.workflows.messages import OPENED_BY


class CannotOpen(ComplaintflowError):
    """The mention cannot become a case; the message says why."""


class NoDecision(CannotOpen):
    """The store has no decision of the policy on that mention."""


@dataclasses.dataclass(frozen=True)
class Opened:
    case_id: str
    new: bool  # False: the mention already had this case


def default_playbook(policy: CompiledPolicy) -> str:
    """The playbook of the policy's last route that answers (not the unread one)."""
    routes = [r for r in policy.routes if r.name != UNREAD_ROUTE]
    if not routes:
        raise CannotOpen(f"policy {policy.name} has no route to open a case with; use --playbook")
    return routes[-1].playbook


async def open_remark(
    client: Client,
    store: DecisionStore,
    policy: CompiledPolicy,
    *,
    platform: str,
    mention_id: str,
    by: str,
    playbook: str | None,
    task_queue: str,
) -> Opened:
    """Open a case for the logged remark `mention_id` and label it a complaint."""
    if not by.strip():
        raise CannotOpen("say who you are: --by NAME")
    names = [p.name for p in policy.playbooks]
    chosen = playbook or default_playbook(policy)
    if chosen not in names:
        raise CannotOpen(f"unknown playbook {chosen!r}: use one of {', '.join(names)}")
    found = await store.remark(platform, mention_id, policy=policy.name)
    if found is None:
        raise NoDecision(
            f"policy {policy.name} has no decision on {platform} mention {mention_id!r} in "
            f"the store {store.url}"
        )
    record, case_id = found
    if case_id is not None:
        return Opened(case_id, new=False)
    try:
        mention = Mention.from_dict(record.get("mention"))
    except MentionError as exc:
        raise CannotOpen(
            f"the store keeps no usable post for mention {mention_id!r} (logged before remarks "
            f"kept their post: {exc}); open it from the platform"
        ) from None
    decision = dataclasses.replace(
        Triage(policy).decide(mention), route=f"{OPENED_BY}{by}", playbook=chosen
    )
    handle = await open_case(
        client, mention=mention, decision=decision, policy=policy, task_queue=task_queue
    )
    if not await store.mark_opened(platform, mention_id, handle.id, policy=policy.name):
        found = await store.remark(platform, mention_id, policy=policy.name)
        return Opened(found[1] if found and found[1] else handle.id, new=False)
    await store.record_case(
        policy=policy.name,
        ref=case_ref(policy.brand.name, handle.id),
        case_id=handle.id,
        platform=platform,
        author_id=mention.author.id,
    )
    await store.record_label(
        Label(
            policy=policy.name,
            platform=platform,
            mention_id=mention_id,
            text=mention.text,
            label=1,
            source="open",
            by=by,
            time=datetime.now(UTC).isoformat(),
            case_id=handle.id,
        )
    )
    return Opened(handle.id, new=True)

"""Platform faults: 20 % 500s, 5 % 429 with Retry-After, 5 % commit-then-drop on every route.
Every case completes; each customer gets exactly one reply, one DM and one ticket."""

import asyncio
import textwrap
from collections import Counter
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from complaintflow import compile_policy
from complaintflow.activities.operations import Operations, OperationsConfig
from complaintflow.activities.platforms import Endpoints, Platforms
from complaintflow.cases import open_case
from complaintflow.devkit.emulator import EmulatorState, Fault, Post, create_app
from complaintflow.devkit.serve import serving
from complaintflow.rules.mention import Author, Mention
from complaintflow.rules.triage import Triage
from complaintflow.worker import build_worker
from complaintflow.workflows.messages import CaseStatus

CASES = 20
BRAND = "1500"
POLICY = textwrap.dedent(
    """\
    policy: faults
    version: 1
    brand:
      name: Acme
      accounts: {x: {user_id: "1500", handle: AcmeCares}}
      contact: {email: care@acme.example, phone: "+1 555 0100"}
    seriousness:
      signals: {problem: {when: "text_has_any(['broken'])", weight: 1.0}}
      thresholds: {respond: 0.5}
    routes: [{name: respond, when: "score >= thresholds.respond", playbook: auto}]
    playbooks:
      auto:
        respond_within: 24h
        steps:
          - reply: {template: ack}
          - handoff: {template: dm}
          - ticket: {system: zendesk}
          - close: {reason: done}
    templates: {ack: "Sorry {author.name}, we are on it.", dm: "Email {brand.contact.email}"}
    """
)


async def test_every_case_completes_exactly_once_under_faults(
    dev: WorkflowEnvironment, tmp_path: Path
) -> None:
    emulator = EmulatorState(token="tok", brand_x_id=BRAND, brand_page_id="p", seed=7)
    for route in ("x.post_tweet", "x.search", "x.send_dm", "x.list_dms", "zendesk.ticket"):
        emulator.faults += [
            Fault(route=route, status=500, rate=0.2),
            Fault(route=route, status=429, retry_after=1, rate=0.0625),
            Fault(route=route, drop=True, rate=0.0667),
        ]
    policy = compile_policy(POLICY)
    triage = Triage(policy)
    async with serving(create_app(emulator)) as url:
        platforms = Platforms(
            Endpoints(x_url=f"{url}/x", x_token="tok"), client=httpx.AsyncClient(timeout=5.0)
        )
        operations = Operations(
            OperationsConfig(
                zendesk_url=f"{url}/zendesk",
                zendesk_email="c@a",
                zendesk_token="tok",
                archive_dir=tmp_path,
            )
        )
        async with build_worker(
            dev.client,
            task_queue="faults",
            activities=[*platforms.activities(), *operations.activities()],
        ):
            handles = []
            for n in range(CASES):
                post = emulator.add_post(
                    Post(f"77{n:04d}", "x", f"u{n}", f"@AcmeCares kettle {n} arrived broken")
                )
                mention = Mention(
                    id=post.id,
                    text=post.text,
                    platform="x",
                    author=Author(id=f"u{n}", handle=f"user{n}", name=f"User {n}"),
                )
                handles.append(
                    await open_case(
                        dev.client,
                        mention=mention,
                        decision=triage.decide(mention),
                        policy=policy,
                        task_queue="faults",
                    )
                )
            finals = await asyncio.gather(*(h.result() for h in handles))
        await platforms.client.aclose()
        await operations.client.aclose()
    assert all(f.status is CaseStatus.CLOSED and f.closed_reason == "done" for f in finals)
    assert not any(e.what == "step failed" for f in finals for e in f.audit)
    replies = Counter(p.in_reply_to for p in emulator.posts.values() if p.author_id == BRAND)
    assert sorted(replies.values()) == [1] * CASES, "one reply per complaint"
    dms = Counter(m["to"] for m in emulator.messages)
    assert sorted(dms.values()) == [1] * CASES, "one DM per customer"
    assert len(emulator.tickets) == CASES, "one ticket per case"
    assert len(emulator.calls) > CASES * 5, "faults were injected and retried"

"""What the reliability suites share: a playbook no human needs to approve, complaints posted on
the emulated X, and the exactly-once check on what the platforms ended up with."""

import asyncio
from collections import Counter
from collections.abc import Sequence

from temporalio.client import Client, WorkflowHandle

from complaintflow import compile_policy
from complaintflow.client.cases import open_case
from complaintflow.devkit.emulator import EmulatorState, Post
from complaintflow.devkit.policies import automatic_policy
from complaintflow.rules.mention import Author, Mention
from complaintflow.rules.triage import Triage
from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.messages import CaseState, CaseStatus

BRAND = "1500"


POLICY = compile_policy(automatic_policy(brand=BRAND))


def emulated_x(*, seed: int = 0) -> EmulatorState:
    """The emulator as the brand's X account sees it (token "tok"); `seed` drives its faults."""
    return EmulatorState(token="tok", brand_x_id=BRAND, brand_page_id="p", seed=seed)


def progress(emulator: EmulatorState) -> float:
    """The share of the playbook's platform work done so far: replies, DMs and tickets."""
    replies = sum(1 for p in emulator.posts.values() if p.author_id == BRAND)
    done = replies + len(emulator.messages) + len(emulator.tickets)
    return done / max(1, 3 * sum(1 for p in emulator.posts.values() if p.author_id != BRAND))


async def open_cases(
    client: Client, emulator: EmulatorState, count: int, *, prefix: str, task_queue: str
) -> list[WorkflowHandle[CaseWorkflow, CaseState]]:
    """Post `count` complaints on the emulated X and open their cases, all at once."""
    triage = Triage(POLICY)

    async def one(n: int) -> WorkflowHandle[CaseWorkflow, CaseState]:
        post = emulator.add_post(
            Post(f"{prefix}{n:04d}", "x", str(600_000 + n), f"@AcmeCares kettle {n} arrived broken")
        )
        mention = Mention(
            id=post.id,
            text=post.text,
            platform="x",
            author=Author(id=str(600_000 + n), handle=f"user{n}", name=f"User {n}"),
        )
        return await open_case(
            client,
            mention=mention,
            decision=triage.decide(mention),
            policy=POLICY,
            task_queue=task_queue,
        )

    return list(await asyncio.gather(*(one(n) for n in range(count))))


def assert_done_exactly_once(emulator: EmulatorState, finals: Sequence[CaseState]) -> None:
    """Every case closed normally; one reply, one DM and one ticket each, no more."""
    assert all(f.status is CaseStatus.CLOSED and f.closed_reason == "done" for f in finals)
    assert not any(e.what == "step failed" for f in finals for e in f.audit)
    posted = Counter(p.in_reply_to for p in emulator.posts.values() if p.author_id == BRAND)
    assert sorted(posted.values()) == [1] * len(finals), "one reply per complaint"
    dms = Counter(m["to"] for m in emulator.messages)
    assert sorted(dms.values()) == [1] * len(finals), "one DM per customer"
    tickets = Counter(t["external_id"] for t in emulator.tickets)
    assert sorted(tickets.values()) == [1] * len(finals), "one ticket per case"

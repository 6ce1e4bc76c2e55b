"""The customers of `complaintflow dev` after the handoff, through the emulator's real routes:
the brand's private reply to a Facebook comment reaches a customer who answers on Messenger
after their delay, quoting the case reference, and the answer reaches the case through ingest;
a customer with no answer in the script never writes; an Instagram customer answers on
Instagram Direct."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from complaintflow import load_policy
from complaintflow.devkit.customers import Answer, Customers, contact_line
from complaintflow.devkit.deliveries import Outbox, Targets
from complaintflow.devkit.emulator import EmulatorState, Post, create_app
from complaintflow.devkit.serve import serving
from complaintflow.ingest.app import Ingest
from complaintflow.ingest.app import create_app as ingest_app
from complaintflow.rules.caseref import case_ref
from complaintflow.rules.mention import Author, Mention
from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.messages import SupervisorAction
from tests.support.cases import case_handle, send_update
from tests.support.paths import EXAMPLE_POLICY
from tests.support.platform import Platform
from tests.support.webhooks import BRAND_X, SECRETS, feed_comment, hex_signature, page_delivery

POLICY = load_policy(EXAMPLE_POLICY)
PAGE = "104000000000001"
INSTAGRAM = "17841400000000001"
COMPLAINT = "Wrong item delivered AGAIN, I want a refund"


async def open_comment_case(http: httpx.AsyncClient, author: str) -> str:
    body = json.dumps(
        page_delivery(
            PAGE,
            feed_comment(
                f"{PAGE}_1_{author}", COMPLAINT, post_id=f"{PAGE}_1", author=(author, "A")
            ),
        )
    ).encode()
    answer = await http.post(
        "/webhooks/meta",
        content=body,
        headers={"x-hub-signature-256": hex_signature(body, "meta-secret")},
    )
    [case_id] = answer.json()["cases"]
    return str(case_id)


async def private_reply(emulator: httpx.AsyncClient, comment: str) -> int:
    """The handoff's private reply, as the Meta adapter sends it (recipient.comment_id)."""
    answer = await emulator.post(
        f"/graph/{PAGE}/messages",
        json={"recipient": {"comment_id": comment}, "message": {"text": "Hi, please write"}},
        headers={"authorization": "Bearer tok"},
    )
    return answer.status_code


async def test_customers_answer_the_brands_private_message_or_never(
    env: WorkflowEnvironment, platform: Platform, queue: str, tmp_path: Path
) -> None:
    ingest = Ingest(
        env.client, POLICY, task_queue=queue, secrets=SECRETS, decision_log=tmp_path / "d.jsonl"
    )
    state = EmulatorState(token="tok", brand_x_id=BRAND_X, brand_page_id=PAGE)
    state.add_post(Post(f"{PAGE}_1", "facebook", PAGE, "Our new sofas are in!"))
    for author in ("31", "32"):
        state.add_post(
            Post(f"{PAGE}_1_{author}", "facebook", author, COMPLAINT, in_reply_to=f"{PAGE}_1")
        )
    state.add_post(Post("17900000000000099", "instagram", "1780000000000042", COMPLAINT))
    lines: list[str] = []
    async with (
        platform.worker(env.client, queue),
        serving(ingest_app(ingest)) as ingest_url,
        httpx.AsyncClient(base_url=ingest_url) as http,
    ):
        targets = Targets(
            ingest_url=ingest_url,
            meta_app_secret="meta-secret",
            page_id=PAGE,
            instagram_id=INSTAGRAM,
        )
        outbox = Outbox(state, targets, told=lambda d: lines.append(contact_line(d)))
        customers = Customers(
            state,
            outbox,
            brand=POLICY.brand.name,
            answers={
                ("facebook", "31"): Answer("dm", 0.5, "It's about {ref}: order 3390"),
                ("instagram", "1780000000000042"): Answer("dm", 0.1, "{ref} - screws missing"),
            },
            say=lines.append,
        )
        state.listener = customers.changed
        answering, silent = [await open_comment_case(http, a) for a in ("31", "32")]
        for author, case_id in (("31", answering), ("32", silent)):
            mention = Mention(
                id=f"{PAGE}_1_{author}", text=COMPLAINT, platform="facebook", author=Author(author)
            )
            customers.played(mention, {"case": case_id})
        instagram_case = "case-instagram-17900000000000099@northwind-social-care"
        customers.played(
            Mention(
                id="17900000000000099",
                text=COMPLAINT,
                platform="instagram",
                author=Author(id="1780000000000042"),
            ),
            {"case": instagram_case},
        )
        async with (
            serving(create_app(state, outbox=outbox)) as emulator_url,
            httpx.AsyncClient(base_url=emulator_url) as emulator,
        ):
            assert await private_reply(emulator, f"{PAGE}_1_32") == 200  # never answers
            assert await private_reply(emulator, f"{PAGE}_1_31") == 200
            # Refused (one private reply per comment): no second answer is scheduled.
            assert await private_reply(emulator, f"{PAGE}_1_31") == 400
            assert await private_reply(emulator, "17900000000000099") == 200
            delivered = sorted(await outbox.drain(), key=lambda d: d.channel)
        # Closed while the worker runs: a case left waiting would wake on its approval
        # deadline in a later test's skipped time, on a queue nobody polls any more, and hold
        # the test server's clock.
        opened = [c for d in delivered for c in d.answer.get("cases", [])]  # private ones
        for case_id in dict.fromkeys([answering, silent, *opened]):
            handle = case_handle(env.client, case_id)
            await send_update(handle, CaseWorkflow.close, SupervisorAction(by="dana"))
            await handle.result()
    assert [(d.channel, d.sender, d.status) for d in delivered] == [
        ("facebook", "31", 200),
        ("instagram", "1780000000000042", 200),
    ], "the silent customer never writes; the answering one writes once"
    assert delivered[0].cases == [answering], "Dana's Messenger answer reached her case"
    sent = [m for m in state.messages if m.get("sender") == "31"]
    assert sent[0]["text"] == f"It's about {case_ref(POLICY.brand.name, answering)}: order 3390"
    assert f"← {'contact':20} facebook dm   from 31" in "\n".join(lines)
    assert any("facebook 31 will answer by dm in 0.5s" in line for line in lines)

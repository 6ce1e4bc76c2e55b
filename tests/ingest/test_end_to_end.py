"""A signed Meta webhook in; the case on the test server; the answers on the emulated page.

Reply in the comment's thread on the same channel -> private reply offering email/phone ->
the customer gets in touch -> resolved -> the complaint archived, then hidden on the page.
"""

import json
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from complaintflow import load_policy
from complaintflow.devkit.emulator import EmulatorState, Fault, Post, create_app
from complaintflow.devkit.serve import serving
from complaintflow.ingest.app import Ingest, IngestSecrets
from complaintflow.ingest.app import create_app as ingest_app
from complaintflow.platforms.http import TIMEOUT
from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.messages import CaseStatus, CustomerContact, SupervisorAction
from tests.support.cases import case_handle, pending, send_update, until
from tests.support.paths import EXAMPLE_POLICY
from tests.support.platform import emulated_worker
from tests.support.webhooks import feed_comment, hex_signature, page_delivery

PAGE = "104000000000001"


async def test_webhook_to_hidden_complaint(env: WorkflowEnvironment, tmp_path: Path) -> None:
    policy = load_policy(EXAMPLE_POLICY)
    emulator = EmulatorState(token="tok", brand_x_id="1500000000000000001", brand_page_id=PAGE)
    emulator.add_post(Post(f"{PAGE}_1", "facebook", PAGE, "Our new sofas are in!"))
    emulator.add_post(
        Post(
            f"{PAGE}_1_77",
            "facebook",
            "888",
            "Wrong item delivered AGAIN, I want a refund",
            in_reply_to=f"{PAGE}_1",
        )
    )
    # The first answer is committed by the platform, then the connection drops: the activity
    # is retried by Temporal and must not post it twice.
    emulator.faults.append(Fault(route="graph.comment", drop=True, times=1))
    emulator.faults.append(Fault(route="zendesk.ticket", status=503, times=1))
    async with serving(create_app(emulator)) as platform_url:
        adapters_http = httpx.AsyncClient(timeout=TIMEOUT)
        ingest = Ingest(
            env.client,
            policy,
            task_queue="e2e",
            secrets=IngestSecrets(meta_app_secret="meta"),
            decision_log=tmp_path / "decisions.jsonl",
        )
        async with (
            emulated_worker(
                env.client, "e2e", platform_url, tmp_path / "archive", http=adapters_http
            ),
            serving(ingest_app(ingest)) as ingest_url,
        ):
            comment = feed_comment(
                f"{PAGE}_1_77",
                "Wrong item delivered AGAIN, I want a refund",
                post_id=f"{PAGE}_1",
                author=("888", "Chris D"),
            )
            body = json.dumps(page_delivery(PAGE, comment)).encode()
            async with httpx.AsyncClient() as http:
                answer = await http.post(
                    f"{ingest_url}/webhooks/meta",
                    content=body,
                    headers={"x-hub-signature-256": hex_signature(body, "meta")},
                )
            assert answer.status_code == 200
            (case_id,) = answer.json()["cases"]
            handle = case_handle(env.client, case_id)
            await until(handle, pending("reply_acknowledge"))
            await send_update(
                handle, CaseWorkflow.approve, SupervisorAction(step="reply_acknowledge", by="dana")
            )
            await until(handle, lambda s: s.status is CaseStatus.AWAITING_CONTACT)
            await handle.signal(CaseWorkflow.customer_contact, CustomerContact(channel="phone"))
            await until(handle, lambda s: s.status is CaseStatus.AWAITING_RESOLUTION)
            await send_update(handle, CaseWorkflow.resolve, SupervisorAction(by="dana"))
            await until(handle, pending("remove_public_hide"))
            await send_update(
                handle, CaseWorkflow.approve, SupervisorAction(step="remove_public_hide", by="dana")
            )
            final = await handle.result()
        await adapters_http.aclose()
    complaint = emulator.posts[f"{PAGE}_1_77"]
    answers = [p for p in emulator.posts.values() if p.in_reply_to == complaint.id]
    assert [a.author_id for a in answers] == [PAGE, PAGE], "acknowledgement, then follow-up"
    assert answers[0].text.startswith("Sorry to hear this, Chris D.")
    (dm,) = emulator.messages
    assert dm["comment_id"] == complaint.id and "care@northwind.example" in dm["text"]
    assert complaint.hidden and not complaint.deleted
    (archived,) = (tmp_path / "archive").glob("*.jsonl")
    assert "Wrong item delivered AGAIN" in archived.read_text()
    assert len(emulator.tickets) == 1 and emulator.notifications
    assert emulator.calls.count("graph.comment") == 2, "ack once (its answer dropped), follow-up"
    assert emulator.calls.count("graph.list_comments") == 1, "only the retry looked first"
    assert final.status is CaseStatus.CLOSED and final.closed_reason == "resolved"

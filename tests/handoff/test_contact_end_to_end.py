"""After the handoff, the customer's contact reaches the case on real Temporal (time-skipping
server) through the ingest app and the emulated platforms: one customer answers by a
Messenger message quoting the case reference and the case is resolved and its complaint
hidden; one answers by email through the signed Zendesk webhook; one never answers and the
case closes on its timeout as venting.

In a package of its own: its time-skipping server holds only these cases, so skipping 72 h
never waits on the cases other ingest tests leave open."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from complaintflow import load_policy
from complaintflow.caseref import case_ref
from complaintflow.devkit.emulator import EmulatorState, Post, create_app
from complaintflow.devkit.serve import serving
from complaintflow.ingest.app import Ingest, IngestSecrets
from complaintflow.ingest.app import create_app as ingest_app
from complaintflow.platforms.http import TIMEOUT
from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.messages import CaseStatus, SupervisorAction
from tests.support.cases import case_handle, pending, send_update, until
from tests.support.paths import EXAMPLE_POLICY
from tests.support.platform import emulated_worker
from tests.support.webhooks import feed_comment, hex_signature, page_delivery

PAGE = "104000000000001"
CUSTOMERS = {"31": "Ana", "32": "Ben", "33": "Cy"}


def signed_meta(payload: object) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    return body, {"x-hub-signature-256": hex_signature(body, "meta")}


def signed_zendesk(payload: object) -> tuple[bytes, dict[str, str]]:
    """Signed as https://developer.zendesk.com/documentation/webhooks/verifying/ says."""
    body, stamp = json.dumps(payload).encode(), "2026-12-03T10:00:00Z"
    digest = hmac.new(b"zd", stamp.encode() + body, hashlib.sha256).digest()
    return body, {
        "X-Zendesk-Webhook-Signature": base64.b64encode(digest).decode(),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }


async def test_customers_answer_the_handoff_by_message_by_email_or_never(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    policy = load_policy(EXAMPLE_POLICY)
    emulator = EmulatorState(token="tok", brand_x_id="1500000000000000001", brand_page_id=PAGE)
    emulator.add_post(Post(f"{PAGE}_1", "facebook", PAGE, "Our new sofas are in!"))
    for author in CUSTOMERS:
        emulator.add_post(
            Post(
                f"{PAGE}_1_{author}",
                "facebook",
                author,
                "Wrong item delivered AGAIN, I want a refund",
                in_reply_to=f"{PAGE}_1",
            )
        )
    secrets = IngestSecrets(meta_app_secret="meta", others={"COMPLAINTFLOW_ZENDESK_SECRET": "zd"})
    async with serving(create_app(emulator)) as platform_url:
        adapters_http = httpx.AsyncClient(timeout=TIMEOUT)
        ingest = Ingest(
            env.client,
            policy,
            task_queue="e2e-contact",
            secrets=secrets,
            decision_log=tmp_path / "decisions.jsonl",
        )
        async with (
            emulated_worker(
                env.client, "e2e-contact", platform_url, tmp_path / "archive", http=adapters_http
            ),
            serving(ingest_app(ingest)) as ingest_url,
            httpx.AsyncClient(base_url=ingest_url) as http,
        ):
            comments = [
                feed_comment(
                    f"{PAGE}_1_{author}",
                    "Wrong item delivered AGAIN, I want a refund",
                    post_id=f"{PAGE}_1",
                    author=(author, name),
                )
                for author, name in CUSTOMERS.items()
            ]
            body, headers = signed_meta(page_delivery(PAGE, *comments))
            opened = await http.post("/webhooks/meta", content=body, headers=headers)
            assert opened.status_code == 200, opened.text
            by_message, by_email, never = (
                case_handle(env.client, case_id) for case_id in opened.json()["cases"]
            )
            for handle in (by_message, by_email, never):
                await until(handle, pending("reply_acknowledge"))
                await send_update(
                    handle,
                    CaseWorkflow.approve,
                    SupervisorAction(step="reply_acknowledge", by="dana"),
                )
                await until(handle, lambda s: s.status is CaseStatus.AWAITING_CONTACT)

            # Ana answers the private reply in Messenger, quoting her case's reference.
            ref = case_ref(policy.brand.name, by_message.id)
            message = {
                "sender": {"id": "24000000000000031"},
                "recipient": {"id": PAGE},
                "timestamp": 1764000000000,
                "message": {"mid": "m_ana1", "text": f"Hi, it's about {ref}: order 4411"},
            }
            body, headers = signed_meta(
                {"object": "page", "entry": [{"id": PAGE, "time": 1, "messaging": [message]}]}
            )
            answered = await http.post("/webhooks/meta", content=body, headers=headers)
            assert answered.json()["contacts"] == [{"id": "m_ana1", "case": by_message.id}]
            await until(by_message, lambda s: s.status is CaseStatus.AWAITING_RESOLUTION)
            await send_update(
                by_message, CaseWorkflow.resolve, SupervisorAction(by="dana", note="refund sent")
            )
            await until(by_message, pending("remove_public_hide"))
            await send_update(
                by_message,
                CaseWorkflow.approve,
                SupervisorAction(step="remove_public_hide", by="dana"),
            )

            # Ben writes to the helpdesk: his ticket carries the case id as its external_id.
            ticket = {
                "id": "7001",
                "external_id": by_email.id,
                "subject": "Re: sofa",
                "comment": "Still no refund",
            }
            body, headers = signed_zendesk({"ticket": ticket})
            emailed = await http.post("/webhooks/zendesk", content=body, headers=headers)
            assert emailed.json() == {"case": by_email.id, "channel": "email"}
            await until(by_email, lambda s: s.status is CaseStatus.AWAITING_RESOLUTION)
            await send_update(
                by_email, CaseWorkflow.close, SupervisorAction(by="dana", note="refunded by email")
            )

            resolved = await until(by_message, lambda s: s.status is CaseStatus.CLOSED)
            emailed_final = await until(by_email, lambda s: s.status is CaseStatus.CLOSED)
            # Cy never answers: the time-skipping server runs out his 72 h wait, in steps (one
            # long skip is a single RPC that a busy machine can time out).
            for _ in range(8):
                await env.sleep(timedelta(hours=10))
            vented = await until(never, lambda s: s.status is CaseStatus.CLOSED)
        await adapters_http.aclose()
    assert resolved.status is CaseStatus.CLOSED and resolved.closed_reason == "resolved"
    assert [(c.channel, c.text) for c in resolved.contacts] == [
        ("dm", f"Hi, it's about {ref}: order 4411")
    ]
    assert emulator.posts[f"{PAGE}_1_31"].hidden
    assert [(c.channel, c.text) for c in emailed_final.contacts] == [("email", "Still no refund")]
    assert emailed_final.closed_reason == "refunded by email"
    assert not vented.contacted and vented.contacts == []
    assert vented.status is CaseStatus.CLOSED and not emulator.posts[f"{PAGE}_1_33"].hidden
    assert vented.closed_reason == "the customer did not get in touch"  # venting

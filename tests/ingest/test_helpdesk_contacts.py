"""Email and other systems: a signed Zendesk webhook about a ticket the customer created or
answered reaches the case by the ticket's external_id (the case id) or the reference quoted in
it; /webhooks/contact does the same for any other system. Signature scheme:
https://developer.zendesk.com/documentation/webhooks/verifying/ (base64 HMAC-SHA256 of the
timestamp followed by the body)."""

from __future__ import annotations

import dataclasses
import json

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.testing import WorkflowEnvironment

from complaintflow.client.cases import open_case
from complaintflow.ingest.service import Ingest
from complaintflow.rules.caseref import case_ref
from complaintflow.workflows.messages import CaseState
from tests.support.cases import case_handle, complaint, until
from tests.support.webhooks import (
    STAMP,
    hex_signature,
    post_x,
    post_zendesk,
    x_event,
    zendesk_headers,
)

COMPLAINT = "@NorthwindCares charged twice and nobody answers. Unacceptable, refund now"


async def opened_case(http: httpx.AsyncClient, ingest: Ingest, tweet: str) -> str:
    ingest.secrets = dataclasses.replace(
        ingest.secrets,
        others={**ingest.secrets.others, "COMPLAINTFLOW_ZENDESK_SECRET": "zd-secret"},
    )
    answer = await post_x(http, x_event(tweet, COMPLAINT, user_id="777"))
    [case_id] = answer.json()["cases"]
    return str(case_id)


async def contacts_of(env: WorkflowEnvironment, case_id: str) -> CaseState:
    handle = case_handle(env.client, case_id)
    return await until(handle, lambda s: bool(s.contacts))


async def test_a_ticket_reaches_its_case_by_external_id_or_quoted_reference(
    env: WorkflowEnvironment, service: tuple[httpx.AsyncClient, Ingest]
) -> None:
    http, ingest = service
    first = await opened_case(http, ingest, "6101")
    second = await opened_case(http, ingest, "6102")
    by_id = await post_zendesk(
        http,
        {"id": 501, "external_id": first, "subject": "Re: your case", "comment": "Hi, order 4411"},
    )
    assert by_id.status_code == 200, by_id.text
    assert by_id.json() == {"case": first, "channel": "email"}
    ref = case_ref(ingest.policy.brand.name, second)
    by_ref = await post_zendesk(
        http,
        {"id": "502", "external_id": "", "subject": f"Complaint {ref}", "comment": "see subject"},
    )
    assert by_ref.json() == {"case": second, "channel": "email"}
    state = await contacts_of(env, first)
    assert [(c.channel, c.text) for c in state.contacts] == [("email", "Hi, order 4411")]
    assert (await contacts_of(env, second)).contacts[0].text == "see subject"
    nowhere = await post_zendesk(http, {"id": "503", "subject": "hello", "comment": "no ref"})
    assert nowhere.status_code == 404 and "no open case" in nowhere.json()["error"]
    other_kind = await post_zendesk(http, {"id": "504", "external_id": "retrain-acme"})
    assert other_kind.status_code == 404


async def test_a_badly_signed_or_malformed_ticket_is_refused_with_the_reason(
    service: tuple[httpx.AsyncClient, Ingest],
) -> None:
    http, ingest = service
    await opened_case(http, ingest, "6201")
    body = json.dumps({"ticket": {"id": "1"}}).encode()
    stale = zendesk_headers(body, stamp="2026-12-03T09:00:00Z")
    replayed = await http.post(
        "/webhooks/zendesk",
        content=body,
        headers={**stale, "X-Zendesk-Webhook-Signature-Timestamp": STAMP},
    )
    assert replayed.status_code == 401 and "x-zendesk-webhook-signature" in replayed.text
    unsigned = await http.post("/webhooks/zendesk", content=body)
    assert unsigned.status_code == 401
    for ticket, reason in (
        ("1", "ticket must be a JSON object"),
        ({"id": "1", "mood": "x"}, "unknown field 'mood' in ticket"),
        ({"id": "1", "comment": "x" * 20_001}, '"comment" in ticket is longer than 20000'),
        ({"id": ["1"]}, '"id" in ticket must be text'),
    ):
        refused = await post_zendesk(http, ticket)
        assert refused.status_code == 400, ticket
        assert reason in refused.json()["error"]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
        max_leaves=8,
    )
)
async def test_hostile_contacts_get_a_4xx_never_a_5xx(
    service: tuple[httpx.AsyncClient, Ingest], payload: object
) -> None:
    http, _ = service
    body = json.dumps(payload).encode()
    answer = await http.post(
        "/webhooks/contact",
        content=body,
        headers={"x-complaintflow-signature": hex_signature(body, "generic-secret")},
    )
    assert 400 <= answer.status_code < 500, answer.text


async def test_any_system_tells_a_case_by_its_reference(
    env: WorkflowEnvironment, service: tuple[httpx.AsyncClient, Ingest]
) -> None:
    http, ingest = service
    case_id = await opened_case(http, ingest, "6301")
    ref = case_ref(ingest.policy.brand.name, case_id)
    payload = {
        "case": ref.lower(),
        "channel": "chat",
        "text": "live chat: refund agreed",
        "at": STAMP,
    }
    body = json.dumps(payload).encode()
    answer = await http.post(
        "/webhooks/contact",
        content=body,
        headers={"x-complaintflow-signature": hex_signature(body, "generic-secret")},
    )
    assert answer.json() == {"case": case_id, "channel": "chat"}
    [contact] = (await contacts_of(env, case_id)).contacts
    assert (contact.channel, contact.text, contact.at) == (
        "chat",
        "live chat: refund agreed",
        "2026-12-03T10:00:00+00:00",
    )


async def test_a_ticket_naming_another_policys_case_reaches_nothing(
    env: WorkflowEnvironment, service: tuple[httpx.AsyncClient, Ingest]
) -> None:
    http, ingest = service
    case_id = await opened_case(http, ingest, "6401")
    # Another brand's case of the same thread, running in the same namespace and worker.
    other = dataclasses.replace(ingest.policy, name="another-brand")
    mention = complaint(id="6401", thread_id="6401", text=COMPLAINT)
    started = await open_case(
        env.client,
        mention=mention,
        decision=ingest.triage.decide(mention),
        policy=other,
        task_queue=ingest.task_queue,
    )
    elsewhere = started.id
    assert elsewhere == case_id.replace(f"@{ingest.policy.name}", "@another-brand")
    answer = await post_zendesk(http, {"id": "601", "external_id": elsewhere, "comment": "hi"})
    assert answer.status_code == 404, "a case id of another policy is not this brand's to tell"
    mine = await post_zendesk(http, {"id": "602", "external_id": case_id, "comment": "hi"})
    assert mine.json() == {"case": case_id, "channel": "email"}

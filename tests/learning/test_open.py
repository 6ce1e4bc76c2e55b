"""`complaintflow open`: a remark the policy logged as throwaway becomes a case, once, and a
label that it was a complaint."""

from __future__ import annotations

import json

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from complaintflow.caseref import case_ref
from complaintflow.ingest.service import Ingest
from complaintflow.opening import CannotOpen, open_remark
from complaintflow.rules.mention import Author, Mention
from tests.support.cases import case_handle, until
from tests.support.webhooks import hex_signature

SARCASM = "@NorthwindCares third time this month, cool cool cool"


async def test_a_logged_remark_opens_once_and_is_labelled_a_complaint(
    env: WorkflowEnvironment, service: tuple[httpx.AsyncClient, Ingest], queue: str
) -> None:
    _, ingest = service
    remark = Mention(
        id="r-1", text=SARCASM, author=Author(id="5", handle="kim", name="Kim", followers=40)
    )
    done = await ingest.accept([remark])
    assert done["logged"] == ["r-1"], "the policy logged it as a throwaway remark"
    opened = await open_remark(
        env.client,
        ingest.store,
        ingest.policy,
        platform="x",
        mention_id="r-1",
        by="dana",
        playbook=None,
        task_queue=queue,
    )
    assert opened.new and opened.case_id == "case-x-r-1@northwind-social-care"
    handle = case_handle(env.client, opened.case_id)
    state = await until(handle, lambda s: s.pending is not None)
    assert (state.playbook, state.route, state.author) == ("standard", "opened by dana", "kim")
    # The opened case is found by its reference and its author, as ingest's are.
    assert state.ref == case_ref(ingest.policy.brand.name, opened.case_id)
    store, name = ingest.store, ingest.policy.name
    assert await store.case_for_ref(state.ref, policy=name) == opened.case_id
    assert await store.cases_of_author("x", "5", policy=name) == [opened.case_id]
    again = await open_remark(
        env.client,
        ingest.store,
        ingest.policy,
        platform="x",
        mention_id="r-1",
        by="ann",
        playbook=None,
        task_queue=queue,
    )
    assert (again.case_id, again.new) == (opened.case_id, False)
    [label] = await ingest.store.labels(ingest.policy.name)
    assert (label.text, label.label, label.source, label.by) == (SARCASM, 1, "open", "dana")
    redelivered = await ingest.accept([remark])
    assert redelivered["decisions"][0]["redelivered"] is True


async def test_open_says_why_it_cannot(
    env: WorkflowEnvironment, service: tuple[httpx.AsyncClient, Ingest], queue: str
) -> None:
    _, ingest = service

    async def attempt(mention_id: str, playbook: str | None = None) -> str:
        with pytest.raises(CannotOpen) as refused:
            await open_remark(
                env.client,
                ingest.store,
                ingest.policy,
                platform="x",
                mention_id=mention_id,
                by="dana",
                playbook=playbook,
                task_queue=queue,
            )
        return str(refused.value)

    assert (await attempt("nope")).startswith(
        "policy northwind-social-care has no decision on x mention 'nope' in the store"
    )
    assert (await attempt("nope", "standrd")).startswith("unknown playbook 'standrd': use one of")


def signed(body: bytes, secret: str = "generic-secret") -> dict[str, str]:
    """Signed as /webhooks/generic is: sha256= and the hex HMAC of the raw body."""
    return {"x-complaintflow-signature": hex_signature(body, secret)}


async def test_a_tool_opens_a_remark_with_a_signed_call(
    service: tuple[httpx.AsyncClient, Ingest],
) -> None:
    http, ingest = service
    await ingest.accept([Mention(id="r-2", text=SARCASM)])
    body = json.dumps({"mention_id": "r-2", "by": "helpdesk-bot"}).encode()
    unsigned = await http.post("/remarks/open", content=body, headers=signed(body, "wrong"))
    assert unsigned.status_code == 401
    assert unsigned.json() == {"error": "missing or wrong x-complaintflow-signature signature"}
    first = await http.post("/remarks/open", content=body, headers=signed(body))
    assert first.status_code == 200, first.text
    assert first.json() == {
        "case": "case-x-r-2@northwind-social-care",
        "opened": True,
        "result": "opened",
    }
    again = await http.post("/remarks/open", content=body, headers=signed(body))
    assert again.json()["result"] == "already has this case"
    [label] = await ingest.store.labels(ingest.policy.name)
    assert (label.mention_id, label.source, label.by) == ("r-2", "open", "helpdesk-bot")


@pytest.mark.parametrize(
    ("payload", "status", "error"),
    [
        ({"by": "x"}, 400, '"mention_id" is required'),
        ({"mention_id": "r-9", "by": 7}, 400, '"by" must be text'),
        ({"mention_id": "r-9", "by": "a" * 101}, 400, '"by" is longer than 100 characters'),
        ({"mention_id": "r-9", "by": "x", "admin": "1"}, 400, "unknown field 'admin'; it takes"),
        ({"mention_id": "r-9", "by": "x"}, 404, "policy northwind-social-care has no decision"),
    ],
)
async def test_a_bad_open_call_gets_a_reason(
    service: tuple[httpx.AsyncClient, Ingest], payload: object, status: int, error: str
) -> None:
    http, _ = service
    body = json.dumps(payload).encode()
    answer = await http.post("/remarks/open", content=body, headers=signed(body))
    assert answer.status_code == status
    assert answer.json()["error"].startswith(error), answer.json()

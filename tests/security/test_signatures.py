"""Signature bypass attempts on every webhook route: each one is a 401 that starts nothing;
a replayed old body is accepted (platforms do redeliver) but changes nothing."""

import base64
import hashlib
import hmac
import json
import zlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from complaintflow import load_policy
from complaintflow.devkit.serve import serving
from complaintflow.ingest.app import Ingest, IngestSecrets, create_app
from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.messages import CaseState
from tests.support.paths import EXAMPLE_POLICY
from tests.support.platform import Platform
from tests.support.webhooks import SECRETS, feed_comment, page_delivery, x_event

COMPLAINT = "@NorthwindCares charged twice and nobody answers. Unacceptable"
REMARK = "nice van today lol"


def digest(secret: str, body: bytes, algorithm: str = "sha256") -> bytes:
    return hmac.new(secret.encode(), body, algorithm).digest()


Encode = Callable[[bytes], bytes]
# route, header, secret, encoding of the digest
ROUTES: dict[str, tuple[str, str, Encode]] = {
    "x": ("x-twitter-webhooks-signature", "x-secret", base64.b64encode),
    "meta": ("x-hub-signature-256", "meta-secret", lambda d: d.hex().encode()),
    "generic": ("x-complaintflow-signature", "generic-secret", lambda d: d.hex().encode()),
}
Forge = Callable[[bytes, str, Encode], str]
ATTEMPTS: dict[str, Forge] = {
    "no signature": lambda body, secret, enc: "",
    "no algorithm": lambda body, secret, enc: enc(digest(secret, body)).decode(),
    "sha1 of the body": lambda body, secret, enc: (
        "sha1=" + enc(digest(secret, body, "sha1")).decode()
    ),
    "sha256 label on sha1": lambda body, secret, enc: (
        "sha256=" + enc(digest(secret, body, "sha1")).decode()
    ),
    "truncated": lambda body, secret, enc: "sha256=" + enc(digest(secret, body)).decode()[:-6],
    "padded": lambda body, secret, enc: "sha256=" + enc(digest(secret, body)).decode() + "00",
    "empty key": lambda body, secret, enc: "sha256=" + enc(digest("", body)).decode(),
    "another route's key": lambda body, secret, enc: (
        "sha256="
        + enc(digest("x-secret" if secret != "x-secret" else "meta-secret", body)).decode()
    ),
    "not ASCII": lambda body, secret, enc: "sha256=" + "é" * 44,
    "plain sha256, no key": lambda body, secret, enc: (
        "sha256=" + enc(hashlib.sha256(body).digest()).decode()
    ),
}


def body_for(route: str, mention_id: str, text: str) -> bytes:
    numeric = str(zlib.crc32(mention_id.encode()))  # X and Meta ids are digits (generic too)
    if route == "x":
        return json.dumps(x_event(numeric, text)).encode()
    if route == "meta":
        change = feed_comment(f"104_0_{numeric}", text, post_id="104_0")
        return json.dumps(page_delivery("104", change)).encode()
    generic = {"id": numeric, "platform": "x", "text": text, "addressed": True}
    return json.dumps(generic).encode()


@pytest_asyncio.fixture
async def ingest(
    dev: WorkflowEnvironment, queue: str, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Ingest]]:
    """The ingest service on the dev server with no worker: what it accepts, nothing runs."""
    service = Ingest(
        dev.client,
        load_policy(EXAMPLE_POLICY),
        task_queue=queue,
        secrets=SECRETS,
        decision_log=tmp_path / "decisions.jsonl",
    )
    async with serving(create_app(service)) as url, httpx.AsyncClient(base_url=url) as http:
        yield http, service


@pytest.mark.parametrize("route", ROUTES)
async def test_forged_signatures_are_refused_and_start_nothing(
    ingest: tuple[httpx.AsyncClient, Ingest], dev: WorkflowEnvironment, route: str
) -> None:
    http, service = ingest
    header, secret, encode = ROUTES[route]
    answers: dict[str, tuple[int, object]] = {}
    for attempt, forge in ATTEMPTS.items():
        for text in (COMPLAINT, REMARK):
            body = body_for(route, f"forged-{route}-{len(answers)}", text)
            answer = await http.post(
                f"/webhooks/{route}",
                content=body,
                headers={header.encode(): forge(body, secret, encode).encode("latin-1")},
            )
            answers[f"{attempt}: {text}"] = (answer.status_code, answer.json())
    refused = (401, {"error": f"missing or wrong {header} signature"})
    assert answers == dict.fromkeys(answers, refused)
    found = [e async for e in dev.client.list_workflows(f'TaskQueue="{service.task_queue}"')]
    assert found == [] and not service.decision_log.exists()


@pytest.mark.parametrize("route", ROUTES)
async def test_a_replayed_old_body_changes_nothing(
    ingest: tuple[httpx.AsyncClient, Ingest],
    dev: WorkflowEnvironment,
    platform: Platform,
    route: str,
) -> None:
    http, service = ingest
    header, secret, encode = ROUTES[route]
    sent = []
    for text in (COMPLAINT, REMARK):
        body = body_for(route, f"replayed-{route}-{text[:4]}", text)
        signature = "sha256=" + encode(digest(secret, body)).decode()
        for _ in range(3):  # the original, then the same bytes and signature again later
            answer = await http.post(
                f"/webhooks/{route}", content=body, headers={header: signature}
            )
            assert answer.status_code == 200
            sent.append(answer.json())
    (case,) = sent[0]["cases"]
    assert [s["cases"] for s in sent[:3]] == [[case]] * 3
    handle = dev.client.get_workflow_handle(case)
    async with platform.worker(dev.client, service.task_queue):
        state: CaseState = await handle.query(CaseWorkflow.state_query)
    assert len(state.mentions) == 1, "the case took the post once"
    assert len(service.decision_log.read_text().splitlines()) == 1, "the remark was logged once"
    assert [s["logged"] for s in sent[3:]] == [[sent[3]["decisions"][0]["id"]], [], []]


async def test_without_a_configured_secret_every_webhook_is_refused(
    dev: WorkflowEnvironment, queue: str, tmp_path: Path
) -> None:
    service = Ingest(
        dev.client,
        load_policy(EXAMPLE_POLICY),
        task_queue=queue,
        secrets=IngestSecrets(),  # nothing set in the environment
        decision_log=tmp_path / "decisions.jsonl",
    )
    async with serving(create_app(service)) as url, httpx.AsyncClient(base_url=url) as http:
        for route, (header, _, encode) in ROUTES.items():
            body = body_for(route, "unset", COMPLAINT)
            signature = "sha256=" + encode(digest("", body)).decode()
            answer = await http.post(
                f"/webhooks/{route}", content=body, headers={header: signature}
            )
            assert answer.status_code == 401, route

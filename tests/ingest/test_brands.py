"""One deployment, several brands: each webhook goes to the policy owning the receiving
account; an account no policy owns is counted and answered 2xx without a case."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import structlog
from hypothesis import HealthCheck, given, settings
from temporalio.testing import WorkflowEnvironment

from complaintflow import load_policy
from complaintflow.caseref import case_ref
from complaintflow.client.cases import case_key, list_cases
from complaintflow.devkit.serve import serving
from complaintflow.ingest.app import Ingest
from complaintflow.ingest.brands import (
    AccountConflict,
    Brands,
    brands_of,
    create_brands_app,
    policy_files,
)
from complaintflow.ingest.reload import reload_once
from complaintflow.rules.mention import Mention
from complaintflow.store import open_store
from complaintflow.workflows.search import CASE_POLICY
from tests.support.hostile import hostile_body, signed
from tests.support.paths import EXAMPLE_POLICY
from tests.support.policies import SMALL_POLICY
from tests.support.webhooks import (
    BRAND_X,
    SECRETS,
    feed_comment,
    hex_signature,
    post_x,
    post_zendesk,
    x_event,
)

COMPLAINT = "@NorthwindCares charged twice and nobody answers. Unacceptable, refund now"
ACME_X, ACME_PAGE, NORTHWIND_PAGE = "1111", "2222", "104000000000001"


@pytest_asyncio.fixture
async def deployment(
    dev: WorkflowEnvironment, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Brands, dict[str, str]]]:
    tag = uuid.uuid4().hex[:8]
    names = {"northwind": f"northwind-{tag}", "acme": f"acme-{tag}"}
    folder = tmp_path / "policies"
    folder.mkdir()
    northwind = EXAMPLE_POLICY.read_text().replace(
        "policy: northwind-social-care", f"policy: {names['northwind']}"
    )
    (folder / "northwind.yaml").write_text(northwind)
    (folder / "acme.yaml").write_text(
        SMALL_POLICY.replace("policy: small", f"policy: {names['acme']}")
    )
    (folder / "acme.tests.yaml").write_text("policy: acme.yaml\ntests: []\n")
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    secrets = dataclasses.replace(
        SECRETS, others={**SECRETS.others, "COMPLAINTFLOW_ZENDESK_SECRET": "zd-secret"}
    )
    ingests = [
        (
            path,
            Ingest(
                dev.client,
                load_policy(path),
                task_queue=f"brands-{tag}",
                secrets=secrets,
                store=store,
            ),
        )
        for path in policy_files(folder)
    ]
    brands = brands_of(ingests)
    async with serving(create_brands_app(brands)) as url, httpx.AsyncClient(base_url=url) as http:
        yield http, brands, names
    await store.close()


def meta_comment(page: str, comment: str, text: str) -> dict[str, object]:
    """One delivery entry: a new comment on `page`'s post."""
    change = feed_comment(
        comment, text, post_id=f"{page}_1", author=("555", "Jo"), created_time=1764000000
    )
    return {"id": page, "time": 1764000000, "changes": [change]}


async def test_each_webhook_opens_its_case_under_the_policy_owning_the_account(
    deployment: tuple[httpx.AsyncClient, Brands, dict[str, str]], dev: WorkflowEnvironment
) -> None:
    http, brands, names = deployment
    northwind = await post_x(http, x_event("4101", COMPLAINT))
    acme_event = {
        **x_event("4102", "@AcmeCares the kettle is broken, I want a refund"),
        "for_user_id": ACME_X,
    }
    acme = await post_x(http, acme_event)
    assert northwind.json()["policies"] == [names["northwind"]]
    assert acme.json()["policies"] == [names["acme"]]
    assert northwind.json()["cases"] == [f"case-x-4101@{names['northwind']}"]
    assert acme.json()["cases"] == [f"case-x-4102@{names['acme']}"]

    stranger = {**x_event("4103", COMPLAINT), "for_user_id": "999"}
    unknown = await post_x(http, stranger)
    assert unknown.status_code == 202, "answered, so the platform does not retry it"
    assert unknown.json()["cases"] == [] and unknown.json()["unknown_accounts"] == ["999"]
    health = (await http.get("/healthz")).json()
    assert health["unknown_account_webhooks"] == {"/webhooks/x": 1}
    for brand in brands.brands:
        store = brand.ingest.store
        assert await store.case_for("x", "4103", policy=brand.ingest.policy.name) is None

    only_acme = await list_cases(dev.client, policy=names["acme"])
    assert [row.case_id for row in only_acme] == [f"case-x-4102@{names['acme']}"]

    # Each brand keeps its case's short reference and author: a customer's DM or email
    # quoting the reference, or a private message from the author, finds the case.
    for brand in brands.brands:
        policy = brand.ingest.policy
        case_id = f"case-x-{'4101' if policy.name == names['northwind'] else '4102'}@{policy.name}"
        ref = case_ref(policy.brand.name, case_id)
        assert await brand.ingest.store.case_for_ref(ref, policy=policy.name) == case_id
        assert await brand.ingest.store.cases_of_author("x", "777", policy=policy.name) == [case_id]


async def test_a_meta_delivery_for_two_pages_is_split_between_their_brands(
    deployment: tuple[httpx.AsyncClient, Brands, dict[str, str]],
) -> None:
    http, _, names = deployment
    body = json.dumps(
        {
            "object": "page",
            "entry": [
                meta_comment(NORTHWIND_PAGE, f"{NORTHWIND_PAGE}_1", COMPLAINT),
                meta_comment(ACME_PAGE, f"{ACME_PAGE}_2", "nice mug lol"),
            ],
        }
    ).encode()
    signature = hex_signature(body, "meta-secret")
    answer = await http.post(
        "/webhooks/meta", content=body, headers={"x-hub-signature-256": signature}
    )
    assert answer.status_code == 200, answer.text
    assert sorted(answer.json()["policies"]) == sorted(names.values())
    assert answer.json()["cases"] == [f"case-facebook-{NORTHWIND_PAGE}_1@{names['northwind']}"]
    assert answer.json()["logged"] == [f"{ACME_PAGE}_2"]
    forged = await http.post(
        "/webhooks/meta", content=body, headers={"x-hub-signature-256": "sha256=00"}
    )
    assert forged.status_code == 401


async def test_a_tweet_mentioning_two_brands_opens_a_case_for_each_and_redelivery_changes_nothing(
    deployment: tuple[httpx.AsyncClient, Brands, dict[str, str]], dev: WorkflowEnvironment
) -> None:
    """X's Account Activity API delivers an event "for each user subscription" (its
    `for_user_id`): a tweet naming two brands' accounts arrives once per account
    (https://docs.x.com/x-api/enterprise-gnip-2.0/fundamentals/account-activity). Each
    delivery is routed to its brand, and each brand gets its own case under its own policy."""
    http, brands, names = deployment
    text = "@NorthwindCares @AcmeCares you both charged me twice, refund now. Unacceptable"
    for_northwind = x_event("4301", text)
    for_acme = {**x_event("4301", text), "for_user_id": ACME_X}
    answers = [await post_x(http, event) for event in (for_northwind, for_acme)]
    assert [a.json()["policies"] for a in answers] == [[names["northwind"]], [names["acme"]]]
    mention = Mention(id="4301", text=text, platform="x")
    expected = {brand: case_key(mention, names[brand]) for brand in ("northwind", "acme")}
    assert [a.json()["cases"] for a in answers] == [[expected["northwind"]], [expected["acme"]]]
    histories = {}
    for brand, case_id in expected.items():
        handle = dev.client.get_workflow_handle(case_id)
        described = await handle.describe()
        assert (
            described.typed_search_attributes.get(CASE_POLICY)
            == f"{names[brand]}@v{2 if brand == 'acme' else 1}"
        )
        histories[brand] = len((await handle.fetch_history()).events)

    for event, brand in [(for_northwind, "northwind"), (for_acme, "acme")] * 2:
        again = await post_x(http, event)
        assert again.json()["cases"] == [expected[brand]]
        assert again.json()["decisions"][0]["redelivered"] is True
    for brand, case_id in expected.items():
        history = await dev.client.get_workflow_handle(case_id).fetch_history()
        assert len(history.events) == histories[brand], "a redelivery signals nothing"
    store = brands.brands[0].ingest.store
    assert await store.count() == 2


async def test_a_reload_claiming_another_brands_account_is_refused_and_webhooks_still_route(
    deployment: tuple[httpx.AsyncClient, Brands, dict[str, str]],
) -> None:
    """Start-up refuses two files claiming one account; a reload once accepted it, and every
    X webhook for every brand was then a 500. It is refused as at start-up."""
    http, brands, names = deployment
    acme = next(b for b in brands.brands if b.path.name == "acme.yaml")
    before = acme.ingest.policy.label
    text = acme.path.read_text()
    claims_northwind = text.replace('user_id: "1111"', f'user_id: "{BRAND_X}"')
    same_name = text.replace(f"policy: {names['acme']}", f"policy: {names['northwind']}")
    for edit, problem in [
        (claims_northwind, f"x account {BRAND_X} is in both"),
        (same_name, f"policy name {names['northwind']!r} is in both"),
    ]:
        acme.path.write_text(edit.replace("version: 2", "version: 5"))
        with structlog.testing.capture_logs() as logs:
            reload_once(acme.path, acme.ingest, "")
        (refused,) = [e for e in logs if e["event"] == "policy.refused"]
        assert any(problem in error for error in refused["errors"]), refused
        assert acme.ingest.policy.label == before, "the previous version stays live"
        northwind = await post_x(http, x_event("4401", COMPLAINT))
        acme_event = {**x_event("4402", "@AcmeCares kettle broken, refund"), "for_user_id": ACME_X}
        acme_answer = await post_x(http, acme_event)
        assert (northwind.status_code, acme_answer.status_code) == (200, 200)
        assert northwind.json()["policies"] == [names["northwind"]]
        assert acme_answer.json()["policies"] == [names["acme"]]
    acme.path.write_text(text.replace("version: 2", "version: 6"))
    reload_once(acme.path, acme.ingest, "")
    assert acme.ingest.policy.version == 6, "a valid edit still goes live"


def test_two_policies_with_one_name_are_refused_at_start_up(
    dev: WorkflowEnvironment, tmp_path: Path
) -> None:
    ingests = []
    for name, text in {
        "a.yaml": SMALL_POLICY,
        "b.yaml": SMALL_POLICY.replace('"1111"', '"3333"').replace('"2222"', '"4444"'),
    }.items():
        (tmp_path / name).write_text(text)
        policy = load_policy(tmp_path / name)
        ingests.append(
            (tmp_path / name, Ingest(dev.client, policy, task_queue="r", secrets=SECRETS))
        )
    with pytest.raises(AccountConflict, match="policy name 'small' is in both"):
        brands_of(ingests)


async def test_each_policy_file_reloads_on_its_own(
    deployment: tuple[httpx.AsyncClient, Brands, dict[str, str]],
) -> None:
    _, brands, _ = deployment
    acme, northwind = (
        next(b for b in brands.brands if b.path.name == n) for n in ("acme.yaml", "northwind.yaml")
    )
    before = northwind.ingest.policy.label
    acme.path.write_text(acme.path.read_text().replace("version: 2", "version: 3"))
    reload_once(acme.path, acme.ingest, "")
    assert acme.ingest.policy.version == 3
    assert northwind.ingest.policy.label == before
    acme.path.write_text("policy: [broken")
    reload_once(acme.path, acme.ingest, "")
    assert acme.ingest.policy.version == 3, "an invalid edit is refused, the last good one stays"


async def test_serve_policies_runs_every_policy_in_a_folder(
    dev: WorkflowEnvironment, tmp_path: Path
) -> None:
    import asyncio
    import os
    import signal
    import subprocess
    import sys

    from tests.ingest.test_replicas import until_ready
    from tests.support.helpers import free_port

    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "northwind.yaml").write_text(EXAMPLE_POLICY.read_text())
    (folder / "acme.yaml").write_text(SMALL_POLICY)
    port = free_port()
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": dev.client.service_client.config.target_host,
        "COMPLAINTFLOW_X_CONSUMER_SECRET": "x-secret",
    }
    command = [sys.executable, "-m", "complaintflow", "serve", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--policies", str(folder), "--decision-log", str(tmp_path / "d.jsonl")],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            await until_ready(http, f"http://127.0.0.1:{port}")
            acme = {**x_event("4201", "nice kettle lol"), "for_user_id": ACME_X}
            answer = await post_x(http, acme)
            assert answer.status_code == 200 and answer.json()["policies"] == ["small"]
            assert len((await http.get("/healthz")).json()["policies"]) == 2
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.to_thread(server.communicate, timeout=30)
    assert server.returncode == 0, stderr
    missing = subprocess.run(
        [*command, "--policies", str(tmp_path / "nowhere")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 2 and "no such directory" in missing.stderr


async def test_one_redacting_policy_keeps_customer_text_out_of_the_shared_logs(
    dev: WorkflowEnvironment, tmp_path: Path
) -> None:
    from complaintflow import logs

    private = SMALL_POLICY + "privacy: {redact_customer_text: true}\n"
    files = {"a.yaml": EXAMPLE_POLICY.read_text(), "b.yaml": private}
    ingests = []
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        policy = load_policy(tmp_path / name)
        ingests.append(
            (tmp_path / name, Ingest(dev.client, policy, task_queue="r", secrets=SECRETS))
        )
    try:
        brands_of(ingests)
        northwind = ingests[0][1]
        northwind.use_policy(northwind.policy)  # a reload of the policy that does not ask
        assert logs.REDACTOR.customer_text is True
    finally:
        logs.redact_customer_text(False)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=hostile_body())
async def test_hostile_signed_bodies_never_get_a_5xx_from_the_brands_app(
    deployment: tuple[httpx.AsyncClient, Brands, dict[str, str]], case: tuple[str, bytes]
) -> None:
    """The multi-brand front reads a body before routing it: what it cannot read is a 400
    with the reason, as in one brand's app (invalid UTF-8 once got a 500 here)."""
    http, _, _ = deployment
    route, body = case
    answer = await http.post(f"/webhooks/{route}", content=body, headers=signed(route, body))
    assert answer.status_code < 500, (answer.status_code, answer.text, body[:200])
    if answer.status_code >= 400:
        assert answer.json()["error"], "a refusal says why"


async def test_a_delivery_for_two_pages_near_the_size_limit_is_taken_whole(
    deployment: tuple[httpx.AsyncClient, Brands, dict[str, str]],
) -> None:
    """Each brand is handed its part as parsed: a body within the size limit is never refused
    as too large because a part re-encoded for one brand would be larger than the body."""
    http, _, names = deployment
    # Emoji are 4 bytes in the body and 12 once JSON-escaped: this body is about 120 KiB,
    # a part re-serialised for the Northwind page would be about 340 KiB (over 256 KiB).
    remarks = [
        meta_comment(NORTHWIND_PAGE, f"{NORTHWIND_PAGE}_{n}", "nice mug " + "🙂" * 1000)
        for n in range(10, 40)
    ]
    body = json.dumps(
        {"object": "page", "entry": [*remarks, meta_comment(ACME_PAGE, f"{ACME_PAGE}_2", "hi")]},
        ensure_ascii=False,
    ).encode()
    assert len(body) < 256 * 1024 < 3 * len(body)
    answer = await http.post(
        "/webhooks/meta",
        content=body,
        headers={"x-hub-signature-256": hex_signature(body, "meta-secret")},
    )
    assert answer.status_code == 200, answer.text[:300]
    assert sorted(answer.json()["policies"]) == sorted(names.values())
    assert answer.json()["accepted"] == len(remarks) + 1


async def test_a_helpdesk_or_a_tool_reaches_the_case_of_whichever_brand_owns_it(
    deployment: tuple[httpx.AsyncClient, Brands, dict[str, str]], dev: WorkflowEnvironment
) -> None:
    http, brands, names = deployment
    acme_event = {
        **x_event("4701", "@AcmeCares the kettle is broken, refund"),
        "for_user_id": ACME_X,
    }
    [acme_case] = (await post_x(http, acme_event)).json()["cases"]
    [northwind_case] = (await post_x(http, x_event("4702", COMPLAINT))).json()["cases"]

    by_id = await post_zendesk(http, {"id": 9, "external_id": acme_case, "comment": "order 12"})
    assert by_id.status_code == 200, by_id.text
    assert by_id.json() == {"case": acme_case, "channel": "email"}
    northwind = next(
        b.ingest.policy for b in brands.brands if b.ingest.policy.name == names["northwind"]
    )
    ref = case_ref(northwind.brand.name, northwind_case)
    body = json.dumps({"case": ref, "channel": "phone", "text": "called"}).encode()
    by_ref = await http.post(
        "/webhooks/contact",
        content=body,
        headers={"x-complaintflow-signature": hex_signature(body, "generic-secret")},
    )
    assert by_ref.json() == {"case": northwind_case, "channel": "phone"}
    for case_id in (acme_case, northwind_case):  # no worker here: the signal is in history
        history = await dev.client.get_workflow_handle(case_id).fetch_history()
        signals = [
            e.workflow_execution_signaled_event_attributes.signal_name
            for e in history.events
            if e.HasField("workflow_execution_signaled_event_attributes")
        ]
        assert "customer_contact" in signals, (case_id, signals)

    nowhere = await post_zendesk(http, {"id": 10, "subject": "hello", "comment": "no ref"})
    assert nowhere.status_code == 404 and "no open case" in nowhere.json()["error"]
    forged = await http.post("/webhooks/contact", content=body, headers={})
    assert forged.status_code == 401
    remark = {**x_event("4703", "nice mug lol"), "for_user_id": ACME_X}
    assert (await post_x(http, remark)).json()["logged"] == ["4703"]
    asked = json.dumps({"mention_id": "4703", "by": "dana", "platform": "x"}).encode()
    opened = await http.post(
        "/remarks/open",
        content=asked,
        headers={"x-complaintflow-signature": hex_signature(asked, "generic-secret")},
    )
    assert opened.status_code == 200, opened.text
    assert opened.json()["case"] == f"case-x-4703@{names['acme']}"

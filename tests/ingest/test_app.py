"""The ingest service over real HTTP on loopback, with cases started on the test server."""

import base64
import hashlib
import hmac
import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.testing import WorkflowEnvironment

from complaintflow.ingest.app import Ingest
from complaintflow.workflows.case import CaseWorkflow
from complaintflow.workflows.messages import CaseState
from tests.support.webhooks import (
    BRAND_X,
    feed_comment,
    hex_signature,
    page_delivery,
    post_x,
    x_event,
    x_signature,
)


class TestAccepting:
    async def test_a_complaint_opens_a_case_and_a_remark_is_logged(
        self, service: tuple[httpx.AsyncClient, Ingest], env: WorkflowEnvironment
    ) -> None:
        http, ingest = service
        answer = await post_x(
            http, x_event("1881", "@NorthwindCares charged twice and nobody answers. Unacceptable")
        )
        assert answer.status_code == 200
        assert answer.json() == {
            "accepted": 1,
            "cases": ["case-x-1881@northwind-social-care"],
            "logged": [],
            "decisions": [
                {
                    "id": "1881",
                    "route": "respond",
                    "score": 1.0,
                    "case": "case-x-1881@northwind-social-care",
                }
            ],
        }
        handle = env.client.get_workflow_handle("case-x-1881@northwind-social-care")
        state: CaseState = await handle.query(CaseWorkflow.state_query)
        assert state.mentions == ["1881"] and state.platform == "x"
        remark = await post_x(http, x_event("1882", "nice van today lol"))
        assert (remark.json()["cases"], remark.json()["logged"]) == ([], ["1882"])
        (line,) = ingest.decision_log.read_text().splitlines()
        assert json.loads(line)["id"] == "1882" and json.loads(line)["route"] is None

    async def test_redelivery_is_harmless(
        self, service: tuple[httpx.AsyncClient, Ingest], env: WorkflowEnvironment
    ) -> None:
        http, _ = service
        event = x_event("1883", "@NorthwindCares my order never arrived, I want a refund")
        for _ in range(3):
            assert (await post_x(http, event)).status_code == 200
        state: CaseState = await env.client.get_workflow_handle(
            "case-x-1883@northwind-social-care"
        ).query(CaseWorkflow.state_query)
        assert state.mentions == ["1883"]

    async def test_the_brands_own_posts_are_ignored(
        self, service: tuple[httpx.AsyncClient, Ingest]
    ) -> None:
        http, ingest = service
        answer = await post_x(http, x_event("1884", "Sorry to hear this!", user_id=BRAND_X))
        assert answer.json() == {"accepted": 0, "cases": [], "logged": [], "decisions": []}
        assert not ingest.decision_log.exists()

    async def test_meta_comment_and_generic_mention(
        self, service: tuple[httpx.AsyncClient, Ingest]
    ) -> None:
        http, _ = service
        comment = feed_comment(
            "104_1",
            "Wrong item delivered AGAIN. Refund please",
            post_id="104_0",
            created_time=1795000000,
        )
        meta = json.dumps(page_delivery("104000000000001", comment)).encode()
        answer = await http.post(
            "/webhooks/meta",
            content=meta,
            headers={"x-hub-signature-256": hex_signature(meta, "meta-secret")},
        )
        assert answer.json()["cases"] == ["case-facebook-104_1@northwind-social-care"]
        generic = json.dumps(
            {
                "id": "17900000000000002",
                "platform": "instagram",
                "text": "broken on arrival, refund?",
                "addressed": True,
            }
        ).encode()
        answer = await http.post(
            "/webhooks/generic",
            content=generic,
            headers={"x-complaintflow-signature": hex_signature(generic, "generic-secret")},
        )
        assert answer.status_code == 200 and answer.json()["accepted"] == 1


class TestHandshakes:
    async def test_x_crc(self, service: tuple[httpx.AsyncClient, Ingest]) -> None:
        http, _ = service
        answer = await http.get("/webhooks/x", params={"crc_token": "abc"})
        expected = base64.b64encode(hmac.new(b"x-secret", b"abc", hashlib.sha256).digest())
        assert answer.json() == {"response_token": "sha256=" + expected.decode()}

    async def test_meta_verification(self, service: tuple[httpx.AsyncClient, Ingest]) -> None:
        http, _ = service
        ok = await http.get(
            "/webhooks/meta",
            params={
                "hub.mode": "subscribe",
                "hub.verify_token": "verify-me",
                "hub.challenge": "1158201444",
            },
        )
        assert (ok.status_code, ok.text) == (200, "1158201444")
        wrong = await http.get(
            "/webhooks/meta",
            params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
        )
        assert wrong.status_code == 403


class TestBadInput:
    @pytest.mark.parametrize(
        "signature",
        [
            "",
            "sha1=abc",
            "sha256=",
            "sha256=AAAA",
            "sha256=" + "A" * 44,
        ],
    )
    async def test_wrong_or_missing_signature_is_401(
        self, service: tuple[httpx.AsyncClient, Ingest], signature: str
    ) -> None:
        http, _ = service
        answer = await post_x(http, x_event("1", "broken"), signature=signature)
        assert answer.status_code == 401
        assert answer.json() == {"error": "missing or wrong x-twitter-webhooks-signature signature"}

    async def test_signature_for_another_body_is_401(
        self, service: tuple[httpx.AsyncClient, Ingest]
    ) -> None:
        http, _ = service
        old = json.dumps(x_event("1", "old body")).encode()
        answer = await post_x(http, x_event("1", "new body"), signature=x_signature(old))
        assert answer.status_code == 401

    async def test_unknown_route_is_404(self, service: tuple[httpx.AsyncClient, Ingest]) -> None:
        http, _ = service
        answer = await http.post("/webhooks/myspace", content=b"{}")
        assert answer.status_code == 404
        assert answer.json() == {"error": "no such endpoint: POST /webhooks/myspace"}

    @pytest.mark.parametrize(
        ("body", "reason"),
        [
            (
                b"{not json",
                "the body is not JSON: Expecting property name enclosed in double "
                "quotes at position 1",
            ),
            (b"[]", "the body must be a JSON object"),
            (b'{"tweet_create_events": {}}', "tweet_create_events must be a list"),
        ],
    )
    async def test_malformed_bodies_are_400_with_a_reason(
        self, service: tuple[httpx.AsyncClient, Ingest], body: bytes, reason: str
    ) -> None:
        http, _ = service
        answer = await http.post(
            "/webhooks/x", content=body, headers={"x-twitter-webhooks-signature": x_signature(body)}
        )
        assert (answer.status_code, answer.json()) == (400, {"error": reason})

    async def test_huge_body_is_413(self, service: tuple[httpx.AsyncClient, Ingest]) -> None:
        http, _ = service
        body = b"{" + b" " * (300 * 1024) + b"}"
        answer = await http.post(
            "/webhooks/x", content=body, headers={"x-twitter-webhooks-signature": x_signature(body)}
        )
        assert answer.status_code == 413


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "object",
                    "entry",
                    "changes",
                    "value",
                    "tweet_create_events",
                    "user",
                    "id_str",
                    "text",
                    "message",
                    "from",
                    "id",
                    "comment_id",
                    "item",
                    "verb",
                    "mentions",
                    "platform",
                ]
            )
            | st.text(max_size=8),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payload=json_values, route=st.sampled_from(["x", "meta", "generic"]))
async def test_signed_random_payloads_never_get_a_5xx(
    service: tuple[httpx.AsyncClient, Ingest], payload: object, route: str
) -> None:
    http, _ = service
    body = json.dumps(payload).encode()
    header, signature = {
        "x": ("x-twitter-webhooks-signature", x_signature(body)),
        "meta": ("x-hub-signature-256", hex_signature(body, "meta-secret")),
        "generic": ("x-complaintflow-signature", hex_signature(body, "generic-secret")),
    }[route]
    answer = await http.post(f"/webhooks/{route}", content=body, headers={header: signature})
    assert answer.status_code < 500, answer.text

"""Customer data never reaches Temporal in the clear: the AES-GCM codec, key rotation, the
codec server the Web UI calls, and the raw history of a real case read without the keys."""

from __future__ import annotations

import base64
import uuid

import httpx
import pytest
from google.protobuf import json_format
from hypothesis import given, settings
from hypothesis import strategies as st
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from complaintflow.codec.keys import CodecError, EncryptionCodec, Keyring, data_converter
from complaintflow.codec.server import create_codec_app
from complaintflow.devkit.serve import serving
from complaintflow.rules.mention import Author
from complaintflow.worker import build_worker
from complaintflow.workflows.messages import CaseState
from tests.support.cases import approve, complaint, open_, pending, until
from tests.support.platform import Platform

OLD, NEW = Keyring.new_key_text("2026-05"), Keyring.new_key_text("2026-11")
TEXT = "@AcmeCares my Zanzibar kettle arrived broken, I want a refund"
HANDLE, NAME = "quill_owner_7731", "Perpetua"
UI = "http://127.0.0.1:8233"


def plain(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=f'"{text}"'.encode())


async def test_rotation_encrypts_with_the_newest_key_and_reads_every_configured_one() -> None:
    before = EncryptionCodec(Keyring.parse(OLD))
    (sealed,) = await before.encode([plain(TEXT)])
    assert TEXT.encode() not in sealed.SerializeToString()
    assert sealed.metadata["encryption-key-id"] == b"2026-05"
    rotated = EncryptionCodec(Keyring.parse(f"{NEW},{OLD}"))
    assert (await rotated.decode([sealed]))[0] == plain(TEXT), "old payloads still read"
    (fresh,) = await rotated.encode([plain(TEXT)])
    assert fresh.metadata["encryption-key-id"] == b"2026-11"
    with pytest.raises(CodecError, match="2026-11"):
        await before.decode([fresh])
    (unencrypted,) = await rotated.decode([plain("older than encryption")])
    assert unencrypted == plain("older than encryption")


@pytest.mark.parametrize(
    ("text", "problem"),
    [("k1", "not ID:BASE64KEY"), ("k1:???", "not base64"), ("k1:" + "QQ==", "1 bytes")],
)
def test_malformed_keys_are_refused_with_the_reason(text: str, problem: str) -> None:
    with pytest.raises(CodecError, match=problem):
        Keyring.parse(text)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(["2026-05", "2026-11", "k", "k1"]), min_size=2, max_size=5))
def test_a_key_id_given_twice_is_refused_naming_both_keys(ids: list[str]) -> None:
    """Payloads name the id of their key: two keys under one id cannot both be read."""
    text = ",".join(Keyring.new_key_text(key_id) for key_id in ids)
    repeated = next((i for i, key_id in enumerate(ids) if key_id in ids[:i]), None)
    if repeated is None:
        assert Keyring.parse(text).current == ids[0]
        return
    first = ids.index(ids[repeated])
    with pytest.raises(CodecError) as refused:
        Keyring.parse(text)
    assert str(refused.value) == (
        f"COMPLAINTFLOW_CODEC_KEYS: key id {ids[repeated]!r} is given to keys {first + 1} and "
        f"{repeated + 1}; give each key its own id"
    )


async def test_a_key_replaced_under_its_id_says_which_keys_were_tried() -> None:
    (sealed,) = await EncryptionCodec(Keyring.parse(OLD)).encode([plain(TEXT)])
    replaced = Keyring.new_key_text("2026-05")  # the same id, another key
    with pytest.raises(
        CodecError, match=r"keys tried: '2026-05'; configured: '2026-11', '2026-05'"
    ):
        await EncryptionCodec(Keyring.parse(f"{NEW},{replaced}")).decode([sealed])


@settings(max_examples=100, deadline=None)
@given(st.data())
async def test_an_altered_payload_is_refused_with_a_reason(data: st.DataObject) -> None:
    codec = EncryptionCodec(Keyring.parse(f"{NEW},{OLD}"))
    (sealed,) = await codec.encode([plain(TEXT)])
    body = bytearray(sealed.data)
    if data.draw(st.booleans(), label="cut short"):
        body = body[: data.draw(st.integers(0, len(body) - 1), label="kept")]
    else:
        at = data.draw(st.integers(0, len(body) - 1), label="at")
        body[at] ^= data.draw(st.integers(1, 255), label="flip")
    altered = Payload(metadata=sealed.metadata, data=bytes(body))
    with pytest.raises(CodecError, match="'2026-11'"):
        await codec.decode([altered])


async def test_the_codec_server_decodes_only_for_its_token_and_its_ui() -> None:
    keys = Keyring.parse(NEW)
    (sealed,) = await EncryptionCodec(keys).encode([plain(TEXT)])
    body = json_format.MessageToJson(Payloads(payloads=[sealed]))
    app = create_codec_app(keys, token="s3cret", ui_origin=UI)
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as http:
        ok = await http.post("/s3cret/decode", content=body, headers={"Origin": UI})
        assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == UI
        (decoded,) = json_format.Parse(ok.content, Payloads()).payloads
        assert decoded == plain(TEXT)
        bearer = await http.post(
            "/decode", content=body, headers={"Authorization": "Bearer s3cret"}
        )
        assert bearer.status_code == 200
        assert (await http.post("/decode", content=body)).status_code == 401
        assert (await http.post("/wrong/decode", content=body)).status_code == 401
        stranger = await http.post(
            "/s3cret/decode", content=body, headers={"Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in stranger.headers
        preflight = {"Origin": UI, "Access-Control-Request-Method": "POST"}
        assert (await http.options("/s3cret/decode", headers=preflight)).status_code == 204
        other = {**preflight, "Origin": "https://evil.example"}
        assert (await http.options("/s3cret/decode", headers=other)).status_code == 403
        encoded = await http.post(
            "/s3cret/encode", content=json_format.MessageToJson(Payloads(payloads=[plain("x")]))
        )
        (again,) = json_format.Parse(encoded.content, Payloads()).payloads
        assert again.metadata["encoding"] == b"binary/encrypted"


async def raw_case(dev: WorkflowEnvironment, keys: Keyring | None) -> bytes:
    """Run a case to its reply with a client using `keys`; return everything Temporal stored
    about it (history, user metadata, search attributes) as read without the keys."""
    client = await Client.connect(
        dev.client.service_client.config.target_host, data_converter=data_converter(keys)
    )
    thread = f"enc-{uuid.uuid4().hex[:8]}"
    mention = complaint(
        id=thread, thread_id=thread, text=TEXT, author=Author(id="991", handle=HANDLE, name=NAME)
    )
    queue = f"codec-{thread}"
    async with build_worker(client, activities=Platform().activities(), task_queue=queue):
        handle = await open_(client, queue, mention)
        state: CaseState = await until(handle, pending("reply_acknowledge"))
        assert NAME in (state.pending.draft if state.pending else ""), (
            "the draft is readable with the keys"
        )
        await approve(handle, "reply_acknowledge")
        await until(handle, lambda s: bool(s.first_response_at))
    raw = dev.client.get_workflow_handle(handle.id)  # no codec: what the server holds
    history = await raw.fetch_history()
    description = await raw.describe()
    return b"".join(e.SerializeToString() for e in history.events) + (
        description.raw_description.SerializeToString()
    )


async def test_the_raw_history_holds_no_customer_text_handle_or_name(
    dev: WorkflowEnvironment,
) -> None:
    clear = await raw_case(dev, None)
    assert TEXT.encode() in clear and HANDLE.encode() in clear, "without keys, it is all there"
    stored = await raw_case(dev, Keyring.parse(NEW))
    for secret in (TEXT, "Zanzibar", HANDLE, NAME):
        assert secret.encode() not in stored, secret
        assert base64.b64encode(secret.encode()) not in stored
    assert b"binary/encrypted" in stored


async def test_failure_text_is_sealed_but_a_refusal_reason_stays_readable() -> None:
    from temporalio.api.failure.v1 import Failure
    from temporalio.exceptions import ApplicationError

    from complaintflow.workflows.messages import Refused

    converter = data_converter(Keyring.parse(NEW))
    quoted, refused = Failure(), Failure()
    await converter.encode_failure(ApplicationError(f"X said 400 about {TEXT!r}"), quoted)
    await converter.encode_failure(Refused('step "reply_ack" is not waiting for approval'), refused)
    assert b"Zanzibar" not in quoted.SerializeToString()
    assert refused.message == 'step "reply_ack" is not waiting for approval'
    assert "Zanzibar" in str(await converter.decode_failure(quoted)), "readable with the keys"

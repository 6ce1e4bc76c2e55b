"""Customer data encrypted before it reaches Temporal: an AES-GCM payload codec with key ids.

Keys come from COMPLAINTFLOW_CODEC_KEYS ("ID:BASE64KEY,ID:BASE64KEY", 32-byte keys; the first
encrypts, all decrypt, so a key is rotated by putting a new one first) or from the file named
by COMPLAINTFLOW_CODEC_KEYS_FILE (same text). Without keys, payloads stay as they are.
"""

from __future__ import annotations

import base64
import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.converter import DataConverter, PayloadCodec, PayloadConverter

from complaintflow.codec.converter import DATA_CONVERTER, PlainRefusals
from complaintflow.errors import ComplaintflowError
from complaintflow.workflows.messages import Refused

KEYS = "COMPLAINTFLOW_CODEC_KEYS"
KEYS_FILE = "COMPLAINTFLOW_CODEC_KEYS_FILE"
ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE = 12
TAG = 16  # AES-GCM's authentication tag, after the ciphertext


class CodecError(ComplaintflowError, ValueError):
    """The keys are malformed, or a payload was encrypted with a key this process lacks."""


@dataclasses.dataclass(frozen=True)
class Keyring:
    """Encryption keys by id; `current` encrypts, every key decrypts."""

    current: str
    keys: dict[str, bytes]

    @classmethod
    def parse(cls, text: str, *, where: str = KEYS) -> Keyring:
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for number, item in enumerate(filter(None, (p.strip() for p in text.split(","))), 1):
            key_id, sep, encoded = item.partition(":")
            if not sep or not key_id:
                raise CodecError(f"{where}: key {number} is not ID:BASE64KEY")
            if key_id in keys:
                # A payload names the id of the key that sealed it: two keys under one id
                # would leave the older payloads unreadable.
                raise CodecError(
                    f"{where}: key id {key_id!r} is given to keys {order.index(key_id) + 1} "
                    f"and {number}; give each key its own id"
                )
            try:
                key = base64.b64decode(encoded, validate=True)
            except ValueError:
                raise CodecError(f"{where}: key {key_id!r} is not base64") from None
            if len(key) != 32:
                raise CodecError(f"{where}: key {key_id!r} has {len(key)} bytes; it needs 32")
            keys[key_id] = key
            order.append(key_id)
        if not order:
            raise CodecError(f"{where}: no keys")
        return cls(order[0], keys)

    @classmethod
    def from_environment(cls) -> Keyring | None:
        text = os.environ.get(KEYS, "")
        if text:
            return cls.parse(text)
        path = os.environ.get(KEYS_FILE, "")
        if path:
            try:
                return cls.parse(Path(path).read_text(encoding="utf-8"), where=path)
            except OSError as exc:
                raise CodecError(f"{KEYS_FILE}: cannot read {path}: {exc.strerror}") from None
        return None

    @staticmethod
    def new_key_text(key_id: str) -> str:
        """A fresh random key as `ID:BASE64KEY`."""
        return f"{key_id}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}"


class EncryptionCodec(PayloadCodec):
    """Each payload becomes nonce + AES-GCM ciphertext of the whole serialised payload, so its
    metadata (the JSON encoding, type hints) is hidden too; the key id travels in the clear."""

    def __init__(self, keys: Keyring) -> None:
        self.keys = keys
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        key_id = self.keys.current
        nonce = os.urandom(NONCE)
        sealed = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID: key_id.encode()}, data=nonce + sealed
        )

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written before encryption was turned on
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        configured = ", ".join(repr(k) for k in self.keys.keys)
        if cipher is None:
            raise CodecError(
                f"a payload is encrypted with key {key_id!r}, which is not configured "
                f"(configured: {configured})"
            )
        if len(payload.data) < NONCE + TAG:
            raise CodecError(f"a payload under key {key_id!r} is too short to be encrypted")
        try:
            data = cipher.decrypt(payload.data[:NONCE], payload.data[NONCE:], key_id.encode())
        except InvalidTag:
            # Only the key the payload names is tried: AES-GCM would refuse any other.
            raise CodecError(
                f"a payload under key {key_id!r} does not decrypt with the key configured as "
                f"{key_id!r} (keys tried: {key_id!r}; configured: {configured}): that id now "
                "names another key, or the payload was altered"
            ) from None
        return Payload.FromString(data)


class _SealedFailures(PlainRefusals):
    """Failure messages and stacks go into the encrypted attributes too (a platform's error
    can quote the customer's post), except a refused update's reason, which supervisors read
    in the Web UI and which names only steps and fields."""

    def to_failure(
        self, exception: BaseException, payload_converter: PayloadConverter, failure: Failure
    ) -> None:
        super().to_failure(exception, payload_converter, failure)
        if isinstance(exception, Refused) or failure.HasField("encoded_attributes"):
            return
        sealed = {"message": failure.message, "stack_trace": failure.stack_trace}
        failure.encoded_attributes.CopyFrom(payload_converter.to_payloads([sealed])[0])
        failure.message = "Encoded failure"
        failure.stack_trace = ""


def data_converter(keys: Keyring | None) -> DataConverter:
    """complaintflow's converter, encrypting every payload (and failure text) with keys."""
    if keys is None:
        return DATA_CONVERTER
    return dataclasses.replace(
        DATA_CONVERTER,
        payload_codec=EncryptionCodec(keys),
        failure_converter_class=_SealedFailures,
    )


def converter_from_environment() -> DataConverter:
    return data_converter(Keyring.from_environment())

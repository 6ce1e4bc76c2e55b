"""Webhook signatures: `sha256=` and the HMAC-SHA256 of the raw body, in base64 (X) or hex
(Meta, and complaintflow's own webhooks)."""

import base64
import hashlib
import hmac
from typing import Literal

Encoding = Literal["hex", "base64"]


def sign(secret: bytes, body: bytes, *, encoding: Encoding = "hex") -> str:
    """The signature header value for `body`."""
    digest = hmac.new(secret, body, hashlib.sha256).digest()
    return "sha256=" + (base64.b64encode(digest).decode() if encoding == "base64" else digest.hex())


def verify(secret: bytes, body: bytes, given: str, *, encoding: Encoding = "hex") -> bool:
    """Whether `given` signs `body`, compared in constant time; no secret verifies nothing."""
    expected = sign(secret, body, encoding=encoding)
    return bool(secret) and hmac.compare_digest(given.encode(), expected.encode())

"""The codec server: lets the Temporal Web UI show supervisors decrypted case details.

Speaks the Temporal codec protocol (POST /encode and /decode with a JSON `payloads` list).
Every request needs the server's token, as `Authorization: Bearer TOKEN` or as the first path
segment (`http://host:port/TOKEN`, for a UI that cannot add headers); CORS headers are sent
only to the Web UI's own origin.
"""

from __future__ import annotations

import hmac

from google.protobuf import json_format
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from temporalio.api.common.v1 import Payloads

from complaintflow.codec.keys import CodecError, EncryptionCodec, Keyring

TOKEN = "COMPLAINTFLOW_CODEC_TOKEN"
ALLOWED_HEADERS = "Authorization, Content-Type, X-Namespace"


def create_codec_app(keys: Keyring, *, token: str, ui_origin: str) -> Starlette:
    codec = EncryptionCodec(keys)
    if not token:
        raise ValueError(f"the codec server needs a token ({TOKEN})")

    def cors(request: Request) -> dict[str, str]:
        origin = request.headers.get("origin", "")
        if not origin or origin.rstrip("/") != ui_origin.rstrip("/"):
            return {}
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Allow-Credentials": "true",
            "Vary": "Origin",
        }

    def authorised(request: Request) -> bool:
        given = request.path_params.get("token") or request.headers.get(
            "authorization", ""
        ).removeprefix("Bearer ")
        return hmac.compare_digest(given.encode(), token.encode())

    async def handle(request: Request) -> Response:
        headers = cors(request)
        if request.method == "OPTIONS":  # a preflight carries no credentials
            return Response(status_code=204 if headers else 403, headers=headers)
        if not authorised(request):
            return JSONResponse({"error": "missing or wrong codec token"}, 401, headers=headers)
        try:
            payloads = json_format.Parse(await request.body(), Payloads())
            if request.url.path.endswith("/encode"):
                done = await codec.encode(payloads.payloads)
            else:
                done = await codec.decode(payloads.payloads)
        except (json_format.ParseError, CodecError, ValueError) as exc:
            return JSONResponse({"error": f"cannot read the payloads: {exc}"}, 400, headers=headers)
        except Exception:  # a tampered or foreign ciphertext
            return JSONResponse({"error": "a payload could not be decrypted"}, 400, headers=headers)
        body = json_format.MessageToJson(Payloads(payloads=done))
        return Response(body, media_type="application/json", headers=headers)

    routes = [
        Route(f"/{action}", handle, methods=["POST", "OPTIONS"]) for action in ("encode", "decode")
    ] + [
        Route(f"/{{token}}/{action}", handle, methods=["POST", "OPTIONS"])
        for action in ("encode", "decode")
    ]
    return Starlette(routes=routes)

"""Readiness of an ingest replica: ready only when Temporal answers and the decision store
takes writes, so a load balancer sends webhooks only to a replica that can accept them."""

import asyncio

from starlette.responses import JSONResponse

from complaintflow.ingest.service import Ingest

READY_TIMEOUT = 5.0  # seconds each dependency has to answer /readyz


async def problems(ingest: Ingest) -> dict[str, str]:
    """What keeps `ingest` from accepting webhooks, by dependency ({} when nothing does)."""
    found: dict[str, str] = {}
    try:
        await asyncio.wait_for(ingest.client.service_client.check_health(), READY_TIMEOUT)
    except Exception as exc:
        found["temporal"] = str(exc) or type(exc).__name__
    try:
        # A store on a full disk still answers reads: only a write says it can take one.
        await asyncio.wait_for(ingest.store.check_writable(), READY_TIMEOUT)
    except Exception as exc:
        found["store"] = str(exc) or type(exc).__name__
    return found


async def readiness(ingest: Ingest) -> JSONResponse:
    """The /readyz answer: 200 when ready, else 503 naming each dependency's problem."""
    found = await problems(ingest)
    if found:
        return JSONResponse({"ready": False, "problems": found}, status_code=503)
    return JSONResponse({"ready": True})

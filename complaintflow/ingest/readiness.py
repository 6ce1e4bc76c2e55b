"""Readiness of an ingest replica: ready only when both Temporal and the decision store
answer, so a load balancer sends webhooks only to a replica that can accept them."""

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
        await asyncio.wait_for(ingest.store.ping(), READY_TIMEOUT)
    except Exception as exc:
        found["store"] = str(exc) or type(exc).__name__
    return found


async def readiness(ingest: Ingest) -> JSONResponse:
    """The /readyz answer: 200 when ready, else 503 naming each dependency's problem."""
    found = await problems(ingest)
    if found:
        return JSONResponse({"ready": False, "problems": found}, status_code=503)
    return JSONResponse({"ready": True})

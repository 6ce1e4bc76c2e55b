"""A worker process for the rotation test: X calls through the shared token store for a while.

Usage: python -m tests.activities.rotation_worker EMULATOR_URL TOKEN_STORE SECONDS
Prints "calls=N failures=M" and exits 1 if any call failed.
"""

import asyncio
import sys
import time
from pathlib import Path

import httpx

from complaintflow.activities.platforms import Endpoints, Platforms
from complaintflow.devkit.emulator import X_CLIENT_ID
from complaintflow.errors import PlatformError
from complaintflow.platforms.x.adapter import XSettings
from tests.support.adapters import x_of


async def main(url: str, store: str, seconds: float) -> int:
    platforms = Platforms(
        Endpoints({"x": XSettings(url=f"{url}/x", client_id=X_CLIENT_ID)}, Path(store)),
        client=httpx.AsyncClient(timeout=10.0),
    )
    calls = failures = 0
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        calls += 1
        try:
            await x_of(platforms).check()
        except PlatformError as exc:
            failures += 1
            print(f"failed: {exc}", file=sys.stderr)
        await asyncio.sleep(0.02)
    await platforms.client.aclose()
    print(f"calls={calls} failures={failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]))))

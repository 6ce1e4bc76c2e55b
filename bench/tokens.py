"""Tokens: what the expiring-token store adds to an X call, and what a refresh costs.

In one run, on loopback against the emulator, sequential `GET /2/users/me` calls:
  baseline   plain httpx with a fixed user-context token
  store      the X adapter reading its token from the shared SQLite store (kept in memory
             while fresh), tokens living two hours as on X
  rotating   the same with tokens living 0.2 s, so most calls first refresh (and rotate)
Prints p50/p99 per call and the ratios to the baseline.
Run: python bench/tokens.py [--calls 300]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from complaintflow.activities.platforms import Endpoints, Platforms
from complaintflow.devkit.emulator import X_CLIENT_ID, EmulatorState, create_app
from complaintflow.devkit.serve import serving
from complaintflow.devkit.stack import connect_emulated_x
from complaintflow.platforms.credentials import TokenStore
from complaintflow.platforms.x.adapter import XAdapter, XSettings


async def timed(calls: int, one: Callable[[], Awaitable[object]]) -> list[float]:
    for _ in range(10):  # warm up
        await one()
    spent = []
    for _ in range(calls):
        started = time.perf_counter()
        await one()
        spent.append((time.perf_counter() - started) * 1000)
    return spent


def line(label: str, spent: list[float], baseline: float) -> str:
    p50 = statistics.median(spent)
    p99 = statistics.quantiles(spent, n=100)[98]
    return f"{label:10} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   p50 ratio {p50 / baseline:5.2f}"


async def main(calls: int) -> None:
    state = EmulatorState(token="tok", brand_x_id="1500", brand_page_id="104")
    async with serving(create_app(state)) as url, httpx.AsyncClient(timeout=5.0) as http:
        fixed = state.issue("x", 24 * 3600, refresh=False).access_token

        async def plain() -> object:
            answer = await http.get(
                f"{url}/x/2/users/me", headers={"Authorization": f"Bearer {fixed}"}
            )
            return answer.raise_for_status()

        results = {"baseline": await timed(calls, plain)}
        for label, lifetime in (("store", 7200.0), ("rotating", 0.2)):
            state.user_token_lifetime = lifetime
            store = TokenStore(Path(tempfile.mkdtemp(prefix="complaintflow-bench-")) / "t.db")
            connect_emulated_x(store, "tok")
            platforms = Platforms(
                Endpoints({"x": XSettings(url=f"{url}/x", client_id=X_CLIENT_ID)}, store.path),
                client=http,
                store=store,
            )
            before = state.refreshes
            results[label] = await timed(calls, platforms.adapter("x", XAdapter).check)
            print(f"({label}: {state.refreshes - before} refreshes in {calls + 10} calls)")
    baseline = statistics.median(results["baseline"])
    for label, spent in results.items():
        print(line(label, spent, baseline))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    asyncio.run(main(parser.parse_args().calls))

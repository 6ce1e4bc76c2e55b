"""Two worker processes sharing one token store never lock the brand out of X.

X rotates refresh tokens: a refresh token works once. The emulator's user tokens here live
1.5 s, so both processes refresh several times, often at the same moment; the store's
write transaction makes the second one use the first one's new tokens instead of spending
the old refresh token again.
"""

import asyncio
import sys
from pathlib import Path

import pytest

from complaintflow.devkit.emulator import EmulatorState, create_app
from complaintflow.devkit.serve import serving
from complaintflow.devkit.stack import connect_emulated_x
from complaintflow.platforms.credentials import TokenStore

pytestmark = pytest.mark.heavy  # a load and process test: left out of --quick

ROOT = Path(__file__).resolve().parents[2]


async def test_two_processes_refresh_against_rotation_without_a_lockout(
    tmp_path: Path,
) -> None:
    state = EmulatorState(
        token="t0k", brand_x_id="1500", brand_page_id="104", user_token_lifetime=1.5
    )
    store = TokenStore(tmp_path / "tokens.sqlite3")
    connect_emulated_x(store, "t0k")
    async with serving(create_app(state)) as url:
        workers = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.activities.rotation_worker",
                url,
                str(store.path),
                "6",
                cwd=ROOT,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for _ in range(2)
        ]
        outputs = [await worker.communicate() for worker in workers]
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err.decode()[-2000:]
        calls = int(out.decode().split()[0].removeprefix("calls="))
        assert calls >= 10
    assert state.refused_refreshes == 0, "no process ever spent a refresh token twice"
    assert state.refreshes >= 3, "the tokens did expire and rotate during the run"
    final = store.load("x")
    assert final is not None and final.refresh_token in state.refresh_tokens


def test_workers_opening_a_new_token_store_together_all_start(tmp_path: Path) -> None:
    """Switching a new file to WAL is refused at once while another opener holds the lock:
    workers started together on a machine without a token store yet must wait, not fail."""
    import threading

    failures: list[BaseException] = []

    def open_and_read(path: Path) -> None:
        try:
            assert TokenStore(path).load("x") is None
        except BaseException as exc:  # collected: the assertion below names it
            failures.append(exc)

    for round_ in range(60):
        path = tmp_path / f"tokens-{round_}.sqlite3"
        threads = [threading.Thread(target=open_and_read, args=(path,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []

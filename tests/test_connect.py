"""`complaintflow connect x` and `complaintflow doctor` against the emulator, as processes."""

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from complaintflow.devkit.emulator import (
    GOOGLE_CLIENT_ID,
    X_CLIENT_ID,
    EmulatorState,
    create_app,
)
from complaintflow.devkit.serve import serving
from complaintflow.platforms.credentials import TokenStore

ROOT = Path(__file__).resolve().parent.parent


def environment(url: str, store: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPLAINTFLOW_")}
    env.update(
        COMPLAINTFLOW_X_API_URL=f"{url}/x",
        COMPLAINTFLOW_X_AUTHORIZE_URL=f"{url}/x/i/oauth2/authorize",
        COMPLAINTFLOW_X_CLIENT_ID=X_CLIENT_ID,
        COMPLAINTFLOW_TOKEN_STORE=str(store),
        **extra,
    )
    return env


async def run(args: list[str], env: dict[str, str], answer: object = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "complaintflow",
        *args,
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stdin is not None
    if callable(answer):
        printed = []
        while not (line := (await process.stdout.readline()).decode()).startswith("http"):
            printed.append(line)
        process.stdin.write((await answer(line.strip()) + "\n").encode())
        await process.stdin.drain()
    out, err = await process.communicate()
    return process.returncode or 0, out.decode(), err.decode()


async def test_connect_x_stores_tokens_that_then_work_and_refresh(tmp_path: Path) -> None:
    state = EmulatorState(token="t0k", brand_x_id="1500", brand_page_id="104")
    store = tmp_path / "tokens.sqlite3"
    async with serving(create_app(state)) as url:

        async def consent(authorise_url: str) -> str:
            assert "code_challenge_method=S256" in authorise_url
            assert "offline.access" in authorise_url.replace("+", " ").replace("%20", " ")
            async with httpx.AsyncClient() as browser:
                answer = await browser.get(authorise_url)
            assert answer.status_code == 302
            return answer.headers["location"]

        code, out, err = await run(["connect", "x"], environment(url, store), consent)
        assert code == 0, err
        assert "X connected: @brand (id 1500)" in out
        tokens = TokenStore(store).load("x")
        assert tokens is not None and tokens.refresh_token in state.refresh_tokens
        assert tokens.access_token not in out + err, "a token is never printed"
        code, out, err = await run(["doctor"], environment(url, store))
    assert code == 0, out + err
    assert "ok   x" in out and "@brand" in out


def _without_state(location: str) -> str:
    url = urlsplit(location)
    kept = [(k, v) for k, v in parse_qsl(url.query) if k != "state"]
    return urlunsplit(url._replace(query=urlencode(kept)))


def _bare_code(location: str) -> str:
    return dict(parse_qsl(urlsplit(location).query))["code"]


def _another_state(location: str) -> str:
    url = urlsplit(location)
    swapped = [(k, "someone-elses-request" if k == "state" else v) for k, v in parse_qsl(url.query)]
    return urlunsplit(url._replace(query=urlencode(swapped)))


def _second_state(location: str) -> str:
    return location + "&state=someone-elses-request"


@pytest.mark.parametrize(
    ("paste", "reason"),
    [
        (_without_state, "no state= in what was pasted"),
        (_bare_code, "no state= in what was pasted"),
        (_another_state, "the state does not match this request"),
        (_second_state, "the state does not match this request"),
    ],
)
async def test_connect_refuses_a_redirect_without_this_requests_state(
    tmp_path: Path, paste: Callable[[str], str], reason: str
) -> None:
    """RFC 6749 section 10.12: a code without the request's state may be someone else's."""
    state = EmulatorState(token="t0k", brand_x_id="1500", brand_page_id="104")
    store = tmp_path / "tokens.sqlite3"
    async with serving(create_app(state)) as url:

        async def consent(authorise_url: str) -> str:
            async with httpx.AsyncClient() as browser:
                answer = await browser.get(authorise_url)
            return paste(answer.headers["location"])

        code, out, err = await run(["connect", "x"], environment(url, store), consent)
    assert code == 1, out + err
    assert f"complaintflow connect: {reason}" in err
    assert "Traceback" not in err
    assert len(state.codes) == 1, "the code was never exchanged"
    assert not store.exists() or TokenStore(store).load("x") is None


async def test_doctor_names_what_is_missing_or_refused(tmp_path: Path) -> None:
    state = EmulatorState(token="t0k", brand_x_id="1500", brand_page_id="104")
    store = tmp_path / "tokens.sqlite3"
    async with serving(create_app(state)) as url:
        env = environment(
            url,
            store,
            COMPLAINTFLOW_GRAPH_API_URL=f"{url}/graph",
            COMPLAINTFLOW_GRAPH_TOKEN="expired-page-token",
            COMPLAINTFLOW_GBP_CLIENT_ID=GOOGLE_CLIENT_ID,
            COMPLAINTFLOW_GBP_CLIENT_SECRET="t0k",
            COMPLAINTFLOW_GBP_REFRESH_TOKEN="t0k",
            COMPLAINTFLOW_GOOGLE_TOKEN_URL=f"{url}/google/token",
            COMPLAINTFLOW_SLACK_WEBHOOK_URL=f"{url}/slack/T/B/X",
        )
        code, out, err = await run(["doctor"], env)
    assert code == 1, out + err
    lines = {line.split()[1]: line for line in out.splitlines()}
    assert "run `complaintflow connect x`" in lines["x"] and lines["x"].startswith("FAIL")
    assert "Invalid OAuth access token" in lines["facebook/instagram"]
    assert lines["google_business"].startswith("ok")
    assert "every alert lands in its channel" in lines["slack"]


def test_connect_names_the_platforms_that_have_a_connect_flow(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Meta's Page token is long-lived and set in the environment: it has no connect flow."""
    from complaintflow.cli import main

    assert main(["connect", "meta"]) == 2
    assert "'meta' has no connect flow (one of: x)" in capsys.readouterr().err

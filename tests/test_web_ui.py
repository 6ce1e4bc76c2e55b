"""A supervisor's whole job in the real Temporal Web UI, in Debian's chromium via Playwright.

Open the cases awaiting approval, open one, read the drafted reply in its details, send the
`approve` update through "Send an Update" with the JSON the details say to paste, and see the
reply in the complaint's thread on the emulated platform; a wrong step is refused with the
validator's words. Screenshots of each step go to artifacts/ui/ (git-ignored).
"""

import json
import re
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from complaintflow.codec.keys import KEYS, Keyring
from tests.support.helpers import free_port
from tests.support.processes import start, stop, wait_ready

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "ui"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
THREAD = "1880000000000000003"
CASE = f"case-x-{THREAD}@northwind-social-care"


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian chromium is not installed (.ci/run installs it with apt-get)",
)
def test_supervisor_approves_a_reply_in_the_web_ui(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import sync_playwright

    # Payloads are encrypted: the UI shows the draft only through the codec server.
    monkeypatch.setenv(KEYS, Keyring.new_key_text("ui-test"))
    port, ui_port = free_port(), free_port()
    dev = start(tmp_path / "state", port, ui_port)
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        lines = wait_ready(dev)
        assert any(line.startswith("Codec server") for line in lines), lines
        emulator = next(line.split()[1] for line in lines if line.startswith("Emulator"))
        waiting = next(line.strip() for line in lines if "CaseAwaitingApproval" in line)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1100})

            page.goto(waiting, wait_until="load")
            page.get_by_role("link", name=CASE).wait_for(timeout=30_000)
            page.screenshot(path=SHOTS / "1-awaiting-approval.png")
            page.get_by_role("link", name=CASE).click()

            page.locator("a:visible, button:visible", has_text="User Metadata").first.click()
            # The UI renders summary, details and current details as Markdown in iframes.
            current = page.frame_locator("iframe").nth(2)
            current.get_by_text("Waiting for approval").first.wait_for(timeout=30_000)
            body = current.locator("body").inner_text()
            assert "Sorry to hear this, Pat." in body, "the drafted reply is in the details"
            paste = re.search(r'approve\s*:\s*(\{"step": "[a-z_]+", "by": "YOUR NAME"\})', body)
            assert paste, "the details say exactly what to send"
            page.screenshot(path=SHOTS / "2-case-details.png")

            refused = send_update(page, "approve", {"step": "reply_ack", "by": "dana"})
            assert 'step "reply_ack" is not waiting for approval' in refused
            assert "Traceback" not in refused and 'File "' not in refused, "no Python stack"
            page.screenshot(path=SHOTS / "3-update-refused.png")
            page.get_by_role("button", name="Cancel").last.click()

            payload = json.loads(paste.group(1).replace("YOUR NAME", "dana"))
            assert send_update(page, "approve", payload) == ""
            page.screenshot(path=SHOTS / "4-approved.png")
            browser.close()

        thread = THREAD
        for _ in range(100):
            posts = httpx.get(f"{emulator}/_emulator/state", timeout=5).json()["posts"]
            replies = [p for p in posts if p["in_reply_to"] == thread]
            if replies:
                break
            time.sleep(0.1)
        assert len(replies) == 1 and replies[0]["platform"] == "x"
        assert replies[0]["text"].startswith("Sorry to hear this, Pat.")
    finally:
        stop(dev)


SPANISH = {
    "id": "1880000000000000099",
    "platform": "x",
    "text": "@NorthwindCares mi pedido nunca llegó y nadie responde, quiero mi reembolso",
    "author": {"handle": "lucia_m", "name": "Lucía", "followers": 80, "id": "2900000099"},
}
TRIAGED = "case-x-1880000000000000099@northwind-social-care"


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian chromium is not installed (.ci/run installs it with apt-get)",
)
def test_supervisor_routes_a_post_in_another_language_in_the_web_ui(tmp_path: Path) -> None:
    """The policy reads English: a Spanish complaint waits for a person, who sees its language
    in the details and routes it to the standard playbook with one Update; the reply drafted
    next is the Spanish text."""
    from playwright.sync_api import sync_playwright

    stream = tmp_path / "stream.jsonl"
    stream.write_text(json.dumps(SPANISH, ensure_ascii=False) + "\n", encoding="utf-8")
    port, ui_port = free_port(), free_port()
    dev = start(tmp_path / "state", port, ui_port, "--stream", str(stream))
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        lines = wait_ready(dev)
        waiting = next(line.strip() for line in lines if "CaseAwaitingApproval" in line)
        to_route = waiting.split("?query=")[0] + "?query=" + quote('CaseStatus="awaiting_route"')
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1100})

            page.goto(to_route, wait_until="load")
            page.get_by_role("link", name=TRIAGED).wait_for(timeout=30_000)
            page.get_by_role("link", name=TRIAGED).click()
            page.locator("a:visible, button:visible", has_text="User Metadata").first.click()
            current = page.frame_locator("iframe").nth(2)
            current.get_by_text("Waiting for a person to pick a playbook").first.wait_for(
                timeout=30_000
            )
            body = current.locator("body").inner_text()
            assert "Language: es" in body, "the detected language is in the details"
            paste = re.search(r'route\s*:\s*(\{"playbook": "[a-z_]+", "by": "YOUR NAME"\})', body)
            assert paste, "the details say exactly what to send"
            page.screenshot(path=SHOTS / "5-awaiting-route.png")

            refused = send_update(page, "route", {"playbook": "standrd", "by": "dana"})
            assert "unknown playbook 'standrd'" in refused and "standard" in refused
            page.get_by_role("button", name="Cancel").last.click()

            payload = json.loads(paste.group(1).replace("YOUR NAME", "dana"))
            assert payload["playbook"] == "standard"
            assert send_update(page, "route", payload) == ""
            page.reload(wait_until="load")
            page.locator("a:visible, button:visible", has_text="User Metadata").first.click()
            current = page.frame_locator("iframe").nth(2)
            current.get_by_text("Waiting for approval").first.wait_for(timeout=30_000)
            assert "Lamentamos mucho lo ocurrido, Lucía." in current.locator("body").inner_text()
            page.screenshot(path=SHOTS / "6-routed.png")
            browser.close()
    finally:
        stop(dev)


def send_update(page: Page, name: str, payload: dict[str, str]) -> str:
    """Fill and submit the "Send an Update" dialog; the dialog's error text ('' if it closed)."""
    page.locator("button:visible", has_text="More Actions").first.click()
    page.locator(
        ":is([role=menuitem], .menu-item-wrapper):visible", has_text="Send an Update"
    ).first.click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_role("button", name=re.compile("Select an Update|approve|route")).click()
    page.locator("[role=option]:visible").filter(
        has=page.locator("span", has_text=re.compile(f"^{name}$"))
    ).first.click()
    editor = dialog.locator(".cm-content").first
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(json.dumps(payload))
    dialog.get_by_text("Single JSON payload supported.").click()  # the editor commits on blur
    dialog.get_by_role("button", name="Submit").click()
    for _ in range(100):
        dialogs = page.locator("dialog[open]")
        if dialogs.count() == 0:
            return ""
        try:  # the dialog may close between the count and the read
            text = dialogs.first.inner_text(timeout=500)
        except PlaywrightTimeout:
            continue
        if "not waiting" in text or "unknown playbook" in text or "Error" in text:
            return text
        page.wait_for_timeout(100)
    raise AssertionError("the update dialog neither closed nor showed an error")

"""A local receiver for the actions webhook: what the worker would post, kept and shown.

It speaks the webhook contract (`POST /{action}`, signed body, Idempotency-Key) so the worker
runs exactly as in production; each action is done once per key, appended to a JSON-lines file
and reported to a callback. Used by `complaintflow dev` until platform emulators take its place.
"""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from complaintflow.activities.webhook import sign

MAX_BODY = 64 * 1024


class Outbox:
    """Receives signed actions on 127.0.0.1 (port 0 = any free port) in a background thread."""

    def __init__(
        self,
        secret: str,
        log_file: Path,
        *,
        on_action: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.secret = secret.encode()
        self.log_file = log_file
        self.on_action = on_action
        self.done: dict[str, str] = {}  # Idempotency-Key -> ref
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def receive(
        self, action: str, key: str, signature: str, body: bytes
    ) -> tuple[int, dict[str, str]]:
        """Check and record one action; the HTTP status and JSON answer."""
        if not hmac.compare_digest(signature, sign(self.secret, body)):
            return 401, {"error": "bad signature"}
        try:
            request = json.loads(body)
        except ValueError:
            return 400, {"error": "body is not JSON"}
        if not isinstance(request, dict) or not key:
            return 400, {"error": "expected a JSON object and an Idempotency-Key"}
        with self._lock:
            if key in self.done:
                return 200, {"ref": self.done[key], "detail": "already done"}
            ref = f"{action}-{len(self.done) + 1}"
            self.done[key] = ref
            with self.log_file.open("a", encoding="utf-8") as log:
                log.write(json.dumps({"endpoint": action, "ref": ref, **request}) + "\n")
        if self.on_action:
            self.on_action(action, request)
        return 200, {"ref": ref, "detail": "done"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    self._answer(413, {"error": "body too large"})
                    return
                body = self.rfile.read(length)
                status, answer = outbox.receive(
                    self.path.strip("/"),
                    self.headers.get("Idempotency-Key", ""),
                    self.headers.get("X-Complaintflow-Signature", ""),
                    body,
                )
                self._answer(status, answer)

            def _answer(self, status: int, answer: dict[str, str]) -> None:
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                return

        return Handler

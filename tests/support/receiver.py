"""A real HTTP server on loopback (port 0) that records requests and plays scripted answers."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclasses.dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, object]:
        data: dict[str, object] = json.loads(self.body)
        return data


@dataclasses.dataclass
class Receiver:
    url: str
    requests: list[Received] = dataclasses.field(default_factory=list)
    # Answers to play first, in order: (status, headers, body); then 200 with a ref.
    script: list[tuple[int, dict[str, str], str]] = dataclasses.field(default_factory=list)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                state.requests.append(Received(self.path, dict(self.headers), body))
                answer = state.script.pop(0) if state.script else None
                number = len(state.requests)
            status, headers, text = answer or (
                200,
                {},
                json.dumps({"ref": f"ref-{number}", "detail": "done"}),
            )
            payload = text.encode()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()

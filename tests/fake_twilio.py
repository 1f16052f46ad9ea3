"""A fake Twilio REST API on loopback: the real twilio Client talks HTTP to it, so only the network edge is fake.

Scripted per request: `server.script.append(Reply(...))` makes the next request get that reply; with no script
left, messages and calls are accepted with a new SID. Every request is kept in `server.requests`.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Reply:
    status: int = 201
    body: dict[str, Any] | None = None
    delay: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    form: dict[str, list[str]]
    authorization: str


@dataclass
class FakeTwilio:
    script: deque[Reply] = field(default_factory=deque)
    requests: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode("utf-8"), keep_blank_values=True)
                with fake.lock:
                    fake.requests.append(Seen("POST", self.path, form, self.headers.get("Authorization", "")))
                    reply = fake.script.popleft() if fake.script else Reply()
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body if reply.body is not None else fake.default_body(self.path, form)
                payload = json.dumps(body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test): nothing to answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @staticmethod
    def default_body(path: str, form: dict[str, list[str]]) -> dict[str, Any]:
        kind = "SM" if path.endswith("/Messages.json") else "CA"
        return {
            "sid": kind + uuid.uuid4().hex,
            "status": "queued",
            "to": form.get("To", [""])[0],
            "from": form.get("From", [""])[0],
        }


def error(status: int, code: int, message: str = "error") -> Reply:
    """A Twilio-style error reply."""
    return Reply(status=status, body={"code": code, "message": message, "more_info": "", "status": status})

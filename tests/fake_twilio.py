"""A fake Twilio REST API on loopback: the real twilio Client talks HTTP to it, so only the network edge is fake.

Scripted per request: `server.script.append(Reply(...))` makes the next request get that reply; with no script
left, messages and calls are accepted with a new SID, updates (a text's body redacted) answered, and deletions
(recordings, call logs) done. Every request is kept in `server.requests`.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus
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
                self._answer("POST")

            def do_DELETE(self) -> None:
                self._answer("DELETE")

            def _answer(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode("utf-8"), keep_blank_values=True)
                with fake.lock:
                    fake.requests.append(Seen(method, self.path, form, self.headers.get("Authorization", "")))
                    reply = fake.script.popleft() if fake.script else fake.default_reply(method, self.path)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.status == HTTPStatus.NO_CONTENT:
                    payload = b""
                else:
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
    def default_reply(method: str, path: str) -> Reply:
        """Unscripted: a DELETE succeeds with no content; a POST creates (201) or updates (200) a resource."""
        if method == "DELETE":
            return Reply(status=HTTPStatus.NO_CONTENT)
        created = path.endswith(("/Messages.json", "/Calls.json"))
        return Reply(status=HTTPStatus.CREATED if created else HTTPStatus.OK)

    @staticmethod
    def default_body(path: str, form: dict[str, list[str]]) -> dict[str, Any]:
        name = path.rsplit("/", 1)[-1].removesuffix(".json")
        if name not in ("Messages", "Calls"):  # an update of one resource, e.g. /Messages/SM....json
            return {"sid": name, "status": "delivered", "body": form.get("Body", [""])[0]}
        kind = "SM" if name == "Messages" else "CA"
        return {
            "sid": kind + uuid.uuid4().hex,
            "status": "queued",
            "to": form.get("To", [""])[0],
            "from": form.get("From", [""])[0],
        }


def error(status: int, code: int, message: str = "error") -> Reply:
    """A Twilio-style error reply."""
    return Reply(status=status, body={"code": code, "message": message, "more_info": "", "status": status})

"""A fake Twilio REST API on loopback: the real twilio Client talks HTTP to it, so only the network edge is fake.

Scripted per request: `server.script.append(Reply(...))` makes the next request get that reply, and
`server.script_to[number]` the next text to that number (a batch's texts arrive in no set order); with no script
left, messages and calls are accepted with a new SID, updates (a text's body redacted) answered, and deletions
(recordings, call logs) done. Every request is kept in `server.requests`; every text taken (a 2xx answer, even
one delayed past the client's timeout) is kept in `server.messages`, which `GET .../Messages.json` lists.
A voicemail's sound (`server.recordings[sid] = b"..."`) is served as Twilio serves it: `GET
.../Recordings/RE....mp3` answers with a redirect to its storage (`/storage/RE....mp3`, here on the same server),
which gives the bytes; an unknown recording is a 404.

It speaks HTTP/1.1 and keeps connections alive, as Twilio does (`Seen.peer` tells the connections apart).
`latency` delays every text's answer, as the network and Twilio would; `barrier`, when set, holds each text's
answer until that many requests are in flight at once (a test of concurrent sends).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
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
    peer: tuple[str, int] = ("", 0)  # the client's address and port: one per connection


@dataclass
class FakeTwilio:
    script: deque[Reply] = field(default_factory=deque)
    requests: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    # The texts it took, oldest first, as Twilio's message log lists them, dated by `clock` (Twilio's clock; a
    # test that sets the hotline's time sets this one to match).
    messages: list[dict[str, Any]] = field(default_factory=list)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # Voicemails' sounds by RecordingSid (MP3 bytes).
    recordings: dict[str, bytes] = field(default_factory=dict)
    latency: float = 0.0  # seconds before every text (POST .../Messages.json) is answered
    # Replies for the texts to one number, before `script`: texts of a batch go out at once, in no set order.
    script_to: dict[str, deque[Reply]] = field(default_factory=dict)
    barrier: threading.Barrier | None = None

    def keep(self, created: dict[str, Any], form: dict[str, list[str]], at: datetime | None = None) -> None:
        """Remember a text Twilio took (`at`: when it was created; now by default)."""
        with self.lock:
            self.messages.append(
                {
                    "sid": created["sid"],
                    "status": created.get("status", "queued"),
                    "to": form.get("To", [""])[0],
                    "from": form.get("From", [""])[0],
                    "body": form.get("Body", [""])[0],
                    "date_created": format_datetime(at or self.clock()),
                }
            )

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # connections kept alive, as Twilio's are
            # The headers and the body are two writes: with Nagle's algorithm the body waits for the client's
            # delayed ACK (40 ms on Linux), a cost of this server, not of Twilio's.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self._answer("POST")

            def do_DELETE(self) -> None:
                self._answer("DELETE")

            def do_GET(self) -> None:
                """The message log, newest first, filtered by To and From (what `messages.list` asks)."""
                path, _, query = self.path.partition("?")
                params = parse_qs(query)
                if "/Recordings/" in path or path.startswith("/storage/"):
                    self._recording(path)
                    return
                with fake.lock:
                    fake.requests.append(
                        Seen(
                            "GET",
                            self.path,
                            params,
                            self.headers.get("Authorization", ""),
                            self.client_address,
                        )
                    )
                    reply = fake.script.popleft() if fake.script else Reply(status=HTTPStatus.OK)
                    wanted = {key: params[key][0] for key in ("To", "From") if key in params}
                    found = [
                        m
                        for m in reversed(fake.messages)
                        if all(m[k.lower()] == v for k, v in wanted.items())
                    ]
                size = int(params.get("PageSize", ["50"])[0])
                body = reply.body or {
                    "messages": found[:size],
                    "uri": path,
                    "page": 0,
                    "page_size": size,
                    "next_page_uri": None,
                }
                self._write(reply.status, json.dumps(body).encode())

            def _answer(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode("utf-8"), keep_blank_values=True)
                with fake.lock:
                    fake.requests.append(
                        Seen(
                            method,
                            self.path,
                            form,
                            self.headers.get("Authorization", ""),
                            self.client_address,
                        )
                    )
                    mine = fake.script_to.get(form.get("To", [""])[0])
                    if mine:
                        reply = mine.popleft()
                    else:
                        reply = (
                            fake.script.popleft() if fake.script else fake.default_reply(method, self.path)
                        )
                if reply.status == HTTPStatus.NO_CONTENT:
                    payload = b""
                else:
                    body = reply.body if reply.body is not None else fake.default_body(self.path, form)
                    payload = json.dumps(body).encode()
                    if self.path.endswith("/Messages.json") and reply.status < HTTPStatus.BAD_REQUEST:
                        fake.keep(body, form)  # taken at once, even if the answer is late (a timeout test)
                if self.path.endswith("/Messages.json"):
                    if fake.barrier is not None:
                        fake.barrier.wait()
                    if fake.latency:
                        time.sleep(fake.latency)
                if reply.delay:
                    time.sleep(reply.delay)
                self._write(reply.status, payload)

            def _recording(self, path: str) -> None:
                """A recording's media: the API redirects to the storage, the storage gives the bytes."""
                with fake.lock:
                    fake.requests.append(Seen("GET", path, {}, self.headers.get("Authorization", "")))
                    reply = fake.script.popleft() if fake.script else None
                name = path.rsplit("/", 1)[-1]
                sid = name.rsplit(".", 1)[0]
                if reply is not None:
                    self._write(reply.status, json.dumps(reply.body or {}).encode())
                elif sid not in fake.recordings:
                    body = {"code": 20404, "message": "not found", "status": 404}
                    self._write(HTTPStatus.NOT_FOUND, json.dumps(body).encode())
                elif not path.startswith("/storage/"):
                    self.send_response(HTTPStatus.FOUND)
                    self.send_header("Location", f"{fake.url}/storage/{name}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self._write(HTTPStatus.OK, fake.recordings[sid], "audio/mpeg")

            def _write(self, status: int, payload: bytes, content_type: str = "application/json") -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
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


def error(status: int, code: int, message: str = "error", delay: float = 0.0) -> Reply:
    """A Twilio-style error reply (after `delay` seconds)."""
    body = {"code": code, "message": message, "more_info": "", "status": status}
    return Reply(status=status, body=body, delay=delay)

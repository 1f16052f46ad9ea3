"""A stand-in for deploy/nginx.conf in front of the web hosts of deploy/smoke.py."""

from __future__ import annotations

import http.client
import itertools
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


class LoadBalancer:
    """What deploy/nginx.conf does, in a few lines: round robin over the web hosts (the next one when a host
    refuses the connection), X-Forwarded-For/-Proto/-Host/-Port for one trusted proxy, /metrics refused."""

    def __init__(self, upstreams: list[tuple[str, int]], public_url: str) -> None:
        self.upstreams = upstreams
        self.public = urlsplit(public_url)
        self.turn = itertools.count()
        balancer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                balancer.forward(self)

            def do_POST(self) -> None:
                balancer.forward(self)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def forward(self, handler: BaseHTTPRequestHandler) -> None:
        if handler.path.split("?")[0] == "/metrics":
            self.answer(handler, 404, {"Content-Type": "text/plain"}, b"not here\n")
            return
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("host", "connection")}
        headers.update(
            {
                "Host": self.public.netloc,
                "X-Forwarded-For": handler.client_address[0],
                "X-Forwarded-Proto": self.public.scheme,
                "X-Forwarded-Host": self.public.netloc,
                "X-Forwarded-Port": "443" if self.public.scheme == "https" else "80",
            }
        )
        first = next(self.turn)
        for attempt in range(2):  # proxy_next_upstream_tries 2
            host, port = self.upstreams[(first + attempt) % len(self.upstreams)]
            connection = http.client.HTTPConnection(host, port, timeout=30)
            try:
                connection.request(handler.command, handler.path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
            except ConnectionRefusedError:
                continue
            finally:
                connection.close()
            kept = {
                k: v for k, v in response.getheaders() if k.lower() not in ("connection", "transfer-encoding")
            }
            self.answer(handler, response.status, kept, data)
            return
        self.answer(handler, 502, {"Content-Type": "text/plain"}, b"no web host answered\n")

    @staticmethod
    def answer(handler: BaseHTTPRequestHandler, status: int, headers: Mapping[str, str], data: bytes) -> None:
        handler.send_response(status)
        for key, value in headers.items():
            if key.lower() != "content-length":
                handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def __enter__(self) -> LoadBalancer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

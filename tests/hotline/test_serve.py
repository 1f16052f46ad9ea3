"""`hotline serve` as `make run` starts it: a real process, answering /healthz within 15 seconds."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from flask import Flask

from hotline.server import make_embedded_server

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_serve_embedded_default_is_healthy_and_ready(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
    env.update(HOTLINE_CONFIG=str(REPO / "config.yaml"), HOTLINE_PORT=str(port))
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "hotline", "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        health = None
        while time.monotonic() - started < 15:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    health = json.load(response)
                    break
            except OSError:
                time.sleep(0.2)
        assert health == {"status": "ok"}, "no /healthz answer within 15 s"
        ready = None
        while time.monotonic() - started < 30:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as response:
                    ready = json.load(response)
                    break
            except OSError:
                time.sleep(0.3)
        assert ready is not None and ready["status"] == "ok" and ready["mode"] == "demo"
        # The embedded default made its own database and demo signing secret in ./instance.
        assert (tmp_path / "instance" / "hotline.db").exists()
        assert (tmp_path / "instance" / "demo_signing_secret").stat().st_mode & 0o077 == 0
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=15)
    assert "mode: DEMO" in output
    assert f"http://127.0.0.1:{port}/twilio/voice" in output
    assert f"console: http://127.0.0.1:{port}/console/  sign in as demo / " in output  # the demo login
    assert process.returncode == 0


def test_the_embedded_server_closes_a_connection_that_sends_nothing(app: Flask) -> None:
    """A client that opens a connection and stalls (half a request line) loses it after the read timeout, so slow
    or stuck clients cannot use up the embedded server's threads."""
    server = make_embedded_server(app, "127.0.0.1", 0, read_timeout=0.5)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as stalled:
            stalled.sendall(b"POST /twilio/voice HTTP/1.1\r\nHost: x")
            assert (
                stalled.recv(1024) == b""
            )  # closed by the server (without the timeout: socket.timeout here)
    finally:
        server.shutdown()

"""`hotline serve` as `make run` starts it: a real process, answering /healthz within 15 seconds."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

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
    assert process.returncode == 0

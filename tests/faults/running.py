"""Waiting for the clockwork in real time: a text queued and watched until sent, /readyz until healthy."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import yaml
from flask import Flask

from hotline.db.models import OutboxText, utcnow
from hotline.jobs.scheduler import Worker
from hotline.services import outbox

RELATIVE = "+4567000021"  # the Danish reserve series for tests (docs/testing.md)
REPO = Path(__file__).resolve().parents[2]


def process_env(tmp_path: Path, database_url: str, **extra: str) -> dict[str, str]:
    """The environment for a `hotline` process of the fault suite: the shipped config with intervals short
    enough to watch, written to `tmp_path`, on `database_url`; nothing of this shell's HOTLINE_* or TWILIO_*."""
    config = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8")) or {}
    config["scheduler"] = {"heartbeat_seconds": 1, "leader_poll_seconds": 0.5}
    config["jobs"] = {"outbox_seconds": 1}
    config["instance_dir"] = str(tmp_path / "instance")
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
    return {**env, "HOTLINE_CONFIG": str(config_path), "HOTLINE_DATABASE_URL": database_url, **extra}


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return condition()


def queue_text(app: Flask, key: str) -> int:
    with app.extensions["hotline"].sessions.begin() as session:
        row = outbox.enqueue(
            session,
            capped=False,
            to=RELATIVE,
            purpose="help",
            language="da",
            now=utcnow(),
            body="Hej",
            dedup_key=key,
        )
        assert row is not None
        return row.id


def state(app: Flask, outbox_id: int) -> str:
    with app.extensions["hotline"].sessions() as session:
        row = session.get(OutboxText, outbox_id)
        assert row is not None
        return row.state


def ready(app: Flask) -> bool:
    return app.test_client().get("/readyz").status_code == 200


def settled(app: Flask, worker: Worker) -> None:
    assert wait_for(lambda: worker.is_leader and ready(app), 30), "the worker leads and /readyz is 200"
    first = queue_text(app, "before")
    assert wait_for(lambda: state(app, first) == "sent", 30)

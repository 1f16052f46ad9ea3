"""Waiting for the clockwork in real time: a text queued and watched until sent, /readyz until healthy."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask

from hotline.db.models import OutboxText, utcnow
from hotline.jobs.scheduler import Worker
from hotline.services import outbox

RELATIVE = "+4567000021"  # the Danish reserve series for tests (docs/testing.md)


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

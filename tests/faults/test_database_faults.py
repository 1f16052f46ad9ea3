"""Faults of the database under a running scheduler: the clockwork survives them and keeps every promise.

Each test runs the real Worker (leader election, APScheduler with its job store in the database) in this process
with short intervals, breaks the database for longer than the busy timeout, and then checks that a text queued
afterwards is still sent and that /readyz is healthy again. Real time (marked slow).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from hotline.app import create_app
from hotline.db.models import OutboxText, utcnow
from hotline.db.session import SQLITE_BUSY_TIMEOUT_MS
from hotline.jobs.scheduler import Worker, lease_seconds
from hotline.services import outbox
from tests.helpers import BACKEND

pytestmark = pytest.mark.slow

RELATIVE = "+4567000021"  # the Danish reserve series for tests (docs/testing.md)


@pytest.fixture
def fast_app(settings_mapping: dict[str, Any]) -> Iterator[Flask]:
    config = {
        **settings_mapping["config"],
        "scheduler": {"heartbeat_seconds": 1, "leader_poll_seconds": 0.5},
        "jobs": {"outbox_seconds": 1},
    }
    application = create_app({**settings_mapping, "config": config})
    yield application
    application.extensions["hotline"].engine.dispose()


@pytest.fixture
def worker(fast_app: Flask) -> Iterator[Worker]:
    running = Worker(fast_app.extensions["hotline"])
    thread = running.start_in_thread()
    yield running
    running.stop()
    thread.join(30)  # it steps down, marks itself stopped and lets go of the lock before the app is torn down
    assert not thread.is_alive()


def _wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return condition()


def _queue_text(app: Flask, key: str) -> int:
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


def _state(app: Flask, outbox_id: int) -> str:
    with app.extensions["hotline"].sessions() as session:
        row = session.get(OutboxText, outbox_id)
        assert row is not None
        return row.state


def _ready(app: Flask) -> bool:
    return app.test_client().get("/readyz").status_code == 200


def _settled(app: Flask, worker: Worker) -> None:
    assert _wait_for(lambda: worker.is_leader and _ready(app), 30), "the worker leads and /readyz is 200"
    first = _queue_text(app, "before")
    assert _wait_for(lambda: _state(app, first) == "sent", 30)


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's database lock")
def test_the_scheduler_outlives_a_database_locked_past_its_busy_timeout(
    fast_app: Flask, worker: Worker
) -> None:
    """Another process holds the SQLite file exclusively for longer than the busy timeout: the job store's
    writes fail with "database is locked". APScheduler's thread used to die of it and nothing was sent again
    until a restart; now the loop goes on, and a text queued after the lock is sent."""
    _settled(fast_app, worker)
    path = fast_app.extensions["hotline"].engine.url.database
    locker = sqlite3.connect(path, timeout=0)
    try:
        locker.execute("BEGIN EXCLUSIVE")
        time.sleep(SQLITE_BUSY_TIMEOUT_MS / 1000 * 2 + 2)  # every write in the meantime fails
    finally:
        locker.rollback()
        locker.close()
    after = _queue_text(fast_app, "after")
    assert _wait_for(lambda: _state(fast_app, after) == "sent", 60), "a text queued after the lock is sent"
    assert _wait_for(lambda: _ready(fast_app), 60), "/readyz is healthy again"
    assert worker.is_leader and worker.scheduler_alive()


@pytest.mark.skipif(BACKEND != "postgres", reason="PostgreSQL connections")
def test_the_scheduler_outlives_its_database_connections_being_killed(
    fast_app: Flask, worker: Worker
) -> None:
    """Every connection this hotline opened is terminated (a failover, an operator, a restart of PostgreSQL's
    backends) while the scheduler runs: the job store reconnects, the text is sent, /readyz is 200."""
    engine = fast_app.extensions["hotline"].engine
    with engine.connect() as connection:
        started = connection.execute(text("SELECT now()")).scalar()
    _settled(fast_app, worker)
    for _ in range(3):  # a few rounds, so some land mid-job
        with engine.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_start >= :started"
                ),
                {"started": started},
            )
            connection.commit()
        time.sleep(1.5)
    after = _queue_text(fast_app, "after")
    assert _wait_for(lambda: _state(fast_app, after) == "sent", 60), "a text queued after the kills is sent"
    assert _wait_for(lambda: _ready(fast_app), 60), "/readyz is healthy again"
    assert _wait_for(lambda: worker.is_leader and worker.scheduler_alive(), 30)


@pytest.mark.skipif(BACKEND != "postgres", reason="PostgreSQL's advisory lock")
def test_a_stuck_leader_loses_its_lease_and_a_standby_takes_over(fast_app: Flask) -> None:
    """A leader that is alive but stuck (here: its scheduler paused, its election loop not running, as under
    SIGSTOP) keeps its connection and so its lock, but writes no heartbeat. After the lease a standby
    terminates the lock's connection and leads; the stuck one finds its lock gone and steps down. Never both."""
    runtime = fast_app.extensions["hotline"]
    stuck, standby = Worker(runtime), Worker(runtime)
    try:
        stuck.tick()
        assert stuck.is_leader and stuck.scheduler is not None
        stuck.scheduler.pause()  # no more heartbeats; the lock stays held
        started = time.monotonic()
        both = []

        def standby_leads() -> bool:
            standby.tick()
            both.append(standby.is_leader and stuck._elector.still_held())
            return standby.is_leader

        assert _wait_for(standby_leads, 40), "the standby takes over"
        took = time.monotonic() - started
        assert not any(both), "never two leaders"
        assert not stuck._elector.still_held()
        stuck.tick()  # it wakes up
        assert not stuck.is_leader and standby.is_leader
        print(
            f"standby took over after {took:.1f} s (lease {lease_seconds(runtime.settings.file.scheduler)} s)"
        )
    finally:
        for worker in (stuck, standby):
            worker.stop()
            worker._step_down(wait=True)
            worker._elector.release()

"""The fault suite's app and worker: the real Worker in this process, with intervals short enough to watch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from hotline.app import create_app
from hotline.jobs.scheduler import Worker


@pytest.fixture
def fast_app(settings_mapping: dict[str, Any]) -> Iterator[Flask]:
    config = {
        **settings_mapping["config"],
        "scheduler": {"heartbeat_seconds": 1, "leader_poll_seconds": 0.5},
        "jobs": {"outbox_seconds": 1, "spool_seconds": 1},
    }
    application = create_app({**settings_mapping, "config": config})
    yield application
    application.extensions["hotline"].dispose()


@pytest.fixture
def worker(fast_app: Flask) -> Iterator[Worker]:
    running = Worker(fast_app.extensions["hotline"])
    thread = running.start_in_thread()
    yield running
    running.stop()
    thread.join(30)  # it steps down, marks itself stopped and lets go of the lock before the app is torn down
    assert not thread.is_alive()

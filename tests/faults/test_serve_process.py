"""`hotline serve` as a real process (web and clockwork in one, as `make run` starts it) while its database is
locked past the busy timeout (SQLite) or has every connection terminated (PostgreSQL): afterwards texts queued
during and after the fault are sent exactly once and /readyz is 200 again within a minute. Real time (slow).
"""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from hotline.db.models import DemoOutbound, OutboxText, utcnow
from hotline.db.session import SQLITE_BUSY_TIMEOUT_MS, make_engine, make_session_factory
from hotline.services import outbox
from tests.faults.running import process_env, wait_for
from tests.helpers import BACKEND

pytestmark = pytest.mark.slow

RELATIVE = "+4567000023"  # the Danish reserve series for tests (docs/testing.md)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    def __init__(self, database_url: str, tmp_path: Path) -> None:
        self.port = _free_port()
        env = process_env(tmp_path, database_url, HOTLINE_PORT=str(self.port))
        self.engine = make_engine(database_url)
        self.sessions = make_session_factory(self.engine)
        self.log = (tmp_path / "serve.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hotline", "serve"],
            cwd=tmp_path,
            env=env,
            stdout=self.log,
            stderr=self.log,
        )

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as response:
                return bool(json.load(response)["status"] == "ok")
        except OSError:  # 503 (HTTPError is an OSError) or not listening yet
            return False

    def queue(self, tag: str) -> int:
        """A text to a relative, written as any part of the hotline writes one; None while the database is down."""
        with self.sessions.begin() as session:
            row = outbox.enqueue(  # uncapped: what is counted here is sending, not the caps
                session,
                capped=False,
                to=RELATIVE,
                purpose="help",
                language="da",
                now=utcnow(),
                body=f"Prøve {tag}",
                dedup_key=tag,
            )
            assert row is not None
            return row.id

    def state(self, outbox_id: int) -> str:
        with self.sessions() as session:
            row = session.get(OutboxText, outbox_id)
            return row.state if row is not None else "missing"

    def sent_copies(self, tag: str) -> int:
        """How many times the demo transport sent the text tagged `tag` (its record of every send)."""
        with self.sessions() as session:
            return int(
                session.scalar(
                    select(func.count()).select_from(DemoOutbound).where(DemoOutbound.body == f"Prøve {tag}")
                )
                or 0
            )

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()
        self.engine.dispose()


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[Served]:
    running = Served(database_url, tmp_path)
    yield running
    running.close()


def _break_the_database(served: Served, database_url: str) -> None:
    """Lock SQLite exclusively for twice the busy timeout, or terminate every PostgreSQL connection three times
    over the same span (the job store's among them), while a text is queued from another thread."""
    if BACKEND == "sqlite":
        locker = sqlite3.connect(str(make_url(database_url).database), timeout=0)
        try:
            locker.execute("BEGIN EXCLUSIVE")
            time.sleep(SQLITE_BUSY_TIMEOUT_MS / 1000 * 2 + 2)
        finally:
            locker.rollback()
            locker.close()
        return
    for _ in range(3):
        with served.engine.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            connection.commit()
        time.sleep(4)


def test_a_running_serve_outlives_its_database_failing_and_sends_every_text_once(
    served: Served, database_url: str
) -> None:
    assert wait_for(served.ready, 30), "hotline serve is ready"
    before = served.queue("før")
    assert wait_for(lambda: served.state(before) == "sent", 30)

    during: list[int] = []

    def queue_during() -> None:  # tries again until the database lets it, as the hotline's own writers do
        time.sleep(1)
        deadline = time.monotonic() + 40
        while not during and time.monotonic() < deadline:
            try:
                during.append(served.queue("under"))
            except OperationalError:
                time.sleep(0.5)

    writer = threading.Thread(target=queue_during)
    writer.start()
    _break_the_database(served, database_url)
    released = time.monotonic()
    writer.join(45)
    after = served.queue("efter")
    assert during, "the text queued during the fault was written once the database let it"
    assert wait_for(lambda: served.state(after) == "sent" and served.state(during[0]) == "sent", 60)
    assert wait_for(served.ready, 60), "/readyz is 200 again"
    print(
        f"{BACKEND}: texts sent and /readyz 200 within {time.monotonic() - released:.1f} s of the fault's end"
    )
    assert [served.sent_copies(tag) for tag in ("før", "under", "efter")] == [1, 1, 1]
    assert served.process.poll() is None, "hotline serve is still running"

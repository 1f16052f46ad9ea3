"""Two `hotline worker` processes on one PostgreSQL database, sending through the real twilio Client to the fake
Twilio on loopback: a leader frozen with SIGSTOP (alive, holding its lock, doing nothing) is replaced within 30 s
and steps down when it wakes; a leader whose database connections are killed is replaced too. Texts queued
before, during and after each fault reach Twilio exactly once: counted at the fake Twilio, not in our tables.
Real processes, real time (marked slow, PostgreSQL only).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from hotline.db.models import SchedulerHeartbeat, utcnow
from hotline.db.session import make_engine, make_session_factory
from hotline.services import outbox
from tests.fake_twilio import FakeTwilio
from tests.faults.running import process_env, wait_for
from tests.helpers import BACKEND, TWILIO_ACCOUNT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(BACKEND != "postgres", reason="two workers share a PostgreSQL database"),
]

RELATIVE = "+4567000022"  # the Danish reserve series for tests (docs/testing.md)
FROZEN_SECONDS = 45  # as long as the freeze the review reproduced


class Line:
    """The database, the fake Twilio and the two worker processes, with what the test asks of them."""

    def __init__(self, database_url: str, tmp_path: Path, fake: FakeTwilio) -> None:
        self.fake = fake
        self.engine: Engine = make_engine(database_url)
        self.sessions: sessionmaker[Session] = make_session_factory(self.engine)
        env = process_env(
            tmp_path,
            database_url,
            HOTLINE_PUBLIC_URL="https://hotline.example.org",
            HOTLINE_TWILIO_API_URL=fake.url,
            HOTLINE_SECRET_KEY="k3y-for-the-fault-suite-0123456789-abcdefghijkl",
            TWILIO_ACCOUNT_SID=TWILIO_ACCOUNT,
            TWILIO_AUTH_TOKEN="token",
        )
        self.logs = [(tmp_path / f"worker-{n}.log").open("wb") for n in range(2)]
        self.workers = [
            subprocess.Popen(
                [sys.executable, "-m", "hotline", "worker"],
                env=env,
                cwd=tmp_path,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            for log in self.logs
        ]
        self.queued: list[str] = []

    def leaders(self, fresh_within: float = 2.5, since: datetime | None = None) -> set[int]:
        """The pids whose leader heartbeat is fresh (and written after `since`)."""
        with self.sessions() as session:
            rows = session.execute(
                select(SchedulerHeartbeat.pid, SchedulerHeartbeat.beat_at).where(
                    SchedulerHeartbeat.is_leader.is_(True)
                )
            ).all()
        now = utcnow()
        return {
            pid
            for pid, beat in rows
            if (now - beat).total_seconds() < fresh_within and (since is None or beat > since)
        }

    def one_leader(
        self, other_than: int | None = None, within: float = 30, since: datetime | None = None
    ) -> tuple[int, float]:
        started = time.monotonic()
        found: set[int] = set()

        def settled() -> bool:
            nonlocal found
            found = self.leaders(since=since) - {other_than}
            return len(found) == 1

        assert wait_for(settled, within), f"expected one new leader within {within} s, saw {found}"
        (pid,) = found
        return pid, time.monotonic() - started

    def queue(self, count: int, tag: str) -> None:
        with self.sessions.begin() as session:
            for n in range(count):
                body = f"Prøve {tag} {n}"
                row = outbox.enqueue(  # uncapped: what is counted here is sending, not the caps
                    session,
                    capped=False,
                    to=RELATIVE,
                    purpose="help",
                    language="da",
                    now=utcnow(),
                    body=body,
                    dedup_key=body,
                )
                assert row is not None
                self.queued.append(body)

    def sent(self) -> Counter[str]:
        with self.fake.lock:
            return Counter(message["body"] for message in self.fake.messages)

    def all_sent(self, within: float = 60) -> None:
        assert wait_for(lambda: set(self.sent()) >= set(self.queued), within), (
            f"missing at Twilio: {sorted(set(self.queued) - set(self.sent()))}"
        )

    def close(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGCONT)
                worker.send_signal(signal.SIGTERM)
        for worker in self.workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
        for log in self.logs:
            log.close()
        self.engine.dispose()


@pytest.fixture
def line(database_url: str, tmp_path: Path) -> Iterator[Line]:
    fake = FakeTwilio().start()
    running = Line(database_url, tmp_path, fake)
    yield running
    running.close()
    fake.stop()


def test_a_frozen_leader_is_replaced_and_a_killed_connection_too_and_every_text_goes_once(line: Line) -> None:
    leader, _ = line.one_leader()
    line.queue(5, "før")
    line.all_sent()

    # 1. The leader freezes (SIGSTOP): alive, its lock held, no heartbeat. The standby must take over.
    os.kill(leader, signal.SIGSTOP)
    frozen_at = time.monotonic()
    line.queue(10, "frosset")
    standby, took = line.one_leader(other_than=leader)
    line.all_sent()
    time.sleep(max(0.0, FROZEN_SECONDS - (time.monotonic() - frozen_at)))
    os.kill(leader, signal.SIGCONT)
    # It wakes, finds its lock gone and steps down: never two leaders sending.
    line.queue(10, "vågnet")
    for _ in range(15):
        time.sleep(0.5)
        assert line.leaders(fresh_within=1.5) <= {standby}, "the woken leader must not lead again"
    line.all_sent()

    # 2. The new leader's database connections are all killed (a failover, an operator): a leader again.
    killed_utc = utcnow()
    with line.engine.connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        connection.commit()
    killed_at = time.monotonic()
    line.queue(10, "afbrudt")
    _leader_after_kill, _ = line.one_leader(since=killed_utc)  # a heartbeat written after the kill
    took_after_kill = time.monotonic() - killed_at
    line.all_sent()

    sent = line.sent()
    doubled = {body: n for body, n in sent.items() if n > 1}
    print(
        f"frozen leader replaced after {took:.1f} s; a leader {took_after_kill:.1f} s after its connections "
        f"were killed; {len(line.queued)} texts queued, {sum(sent.values())} reached Twilio, {len(doubled)} twice"
    )
    assert took < 30 and took_after_kill < 30
    assert not doubled, f"sent twice: {doubled}"
    assert sum(sent.values()) == len(line.queued)
    assert all(worker.poll() is None for worker in line.workers), "both workers are still running"

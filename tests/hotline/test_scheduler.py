"""The clockwork: one leader at a time, a heartbeat that /readyz trusts, and a standby that takes over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from flask import Flask
from sqlalchemy import select

from hotline.db.models import OutboxText, SchedulerHeartbeat, utcnow
from hotline.db.session import make_engine, make_session_factory
from hotline.jobs.scheduler import Worker

REPO = Path(__file__).resolve().parents[2]


def test_one_in_process_worker_leads_and_a_second_stands_by(app: Flask) -> None:
    runtime = app.extensions["hotline"]
    first, second = Worker(runtime), Worker(runtime)
    try:
        first.tick()
        second.tick()
        assert first.is_leader and not second.is_leader
        assert first.scheduler is not None
        assert {job.id for job in first.scheduler.get_jobs()} == {
            "heartbeat",
            "import_spool",
            "send_outbox",
            "erase_at_twilio",
            "open_windows",
            "escalate_overdue",
            "shift_starts",
            "gap_report",
            "purge",
        }
        with runtime.sessions() as session:
            rows = {r.instance_id: r.is_leader for r in session.scalars(select(SchedulerHeartbeat))}
        assert rows == {first.instance_id: True, second.instance_id: False}
        assert app.test_client().get("/readyz").status_code == 200
    finally:
        for worker in (first, second):
            worker.stop()
            worker._step_down(wait=True)
            worker._elector.release()


def test_readyz_notices_a_stale_heartbeat(app: Flask) -> None:
    runtime = app.extensions["hotline"]
    with runtime.sessions.begin() as session:
        session.add(
            SchedulerHeartbeat(
                instance_id="old",
                hostname="h",
                pid=1,
                is_leader=True,
                beat_at=utcnow() - timedelta(minutes=5),
            )
        )
    body = app.test_client().get("/readyz").get_json()
    assert body["status"] == "unavailable"
    assert body["problems"][0].startswith("scheduler not running: last heartbeat")


def _leaders(sessions: object, fresh_within: float) -> dict[int, float]:
    from sqlalchemy.orm import Session, sessionmaker

    assert isinstance(sessions, sessionmaker)
    factory: sessionmaker[Session] = sessions
    with factory() as session:
        rows = session.scalars(select(SchedulerHeartbeat).where(SchedulerHeartbeat.is_leader.is_(True))).all()
    now = utcnow()
    return {
        r.pid: (now - r.beat_at).total_seconds()
        for r in rows
        if (now - r.beat_at).total_seconds() < fresh_within
    }


@pytest.mark.slow
def test_two_worker_processes_one_leader_and_takeover_within_30_seconds(
    database_url: str, tmp_path: Path
) -> None:
    config = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8")) or {}
    config["scheduler"] = {"heartbeat_seconds": 1, "leader_poll_seconds": 1}
    config["instance_dir"] = str(tmp_path / "instance")
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
    env.update(HOTLINE_CONFIG=str(config_path), HOTLINE_DATABASE_URL=database_url)
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "hotline", "worker"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 30
        leaders: dict[int, float] = {}
        while time.monotonic() < deadline:
            leaders = _leaders(sessions, fresh_within=2.5)
            if leaders:
                break
            time.sleep(0.2)
        assert len(leaders) == 1, f"expected exactly one leader, saw {leaders}"
        # Stable: for a few seconds, still exactly the same single leader.
        for _ in range(10):
            time.sleep(0.3)
            assert list(_leaders(sessions, fresh_within=2.5)) == list(leaders)
        (leader_pid,) = leaders
        assert leader_pid in {w.pid for w in workers}
        os.kill(leader_pid, signal.SIGKILL)
        killed_at = time.monotonic()
        new_leaders: dict[int, float] = {}
        while time.monotonic() - killed_at < 30:
            new_leaders = {
                pid: age for pid, age in _leaders(sessions, fresh_within=1.5).items() if pid != leader_pid
            }
            if new_leaders:
                break
            time.sleep(0.2)
        took = time.monotonic() - killed_at
        assert len(new_leaders) == 1, "the standby did not take over within 30 s"
        print(f"takeover after {took:.1f} s")
        assert took < 30
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
        engine.dispose()


def test_a_dead_scheduler_thread_is_started_again_by_the_election_loop(app: Flask) -> None:
    """The watchdog: if the scheduler's thread ends while this process leads (whatever killed it), the next
    round of the election loop starts a new scheduler instead of leading with no jobs running."""
    worker = Worker(app.extensions["hotline"])
    try:
        worker.tick()
        dead = worker.scheduler
        assert dead is not None and worker.scheduler_alive()
        dead.shutdown(wait=True)  # its thread ends; the worker still believes it leads
        assert worker.is_leader and not worker.scheduler_alive()
        worker.tick()
        assert worker.is_leader and worker.scheduler is not dead and worker.scheduler_alive()
    finally:
        worker.stop()
        worker._step_down(wait=True)
        worker._elector.release()


def test_jobs_do_nothing_in_a_process_that_no_longer_leads(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every job asks first whether its process still leads: a leader that was replaced while frozen sends
    nothing when it wakes, before its election loop notices."""
    from hotline.jobs import registry
    from hotline.services import outbox

    runtime = app.extensions["hotline"]
    with runtime.sessions.begin() as session:
        row = outbox.enqueue(
            session,
            capped=False,
            to="+4567000031",
            purpose="help",
            language="da",
            now=utcnow(),
            body="Hej",
            dedup_key="x",
        )
        assert row is not None
        text_id = row.id
    leading = [False]
    monkeypatch.setattr(registry, "_context", None)  # restored after the test: other tests bind their own
    registry.bind(runtime, "fenced", lambda: leading[0])
    registry.send_outbox()
    registry.heartbeat()
    with runtime.sessions() as session:
        assert session.get(OutboxText, text_id).state == "pending"  # type: ignore[union-attr]
        assert session.scalars(select(SchedulerHeartbeat)).all() == []
    leading[0] = True
    registry.send_outbox()
    with runtime.sessions() as session:
        assert session.get(OutboxText, text_id).state == "sent"  # type: ignore[union-attr]

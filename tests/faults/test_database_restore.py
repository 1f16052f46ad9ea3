"""The database goes away under a running hotline and comes back: an operator restoring the SQLite file from a
backup, or the PostgreSQL database renamed away for a while. Callers get the fallback answer meanwhile, their
voicemails are spooled to disk, /readyz says what is wrong and what to run, and once the database is back every
spooled voicemail is imported exactly once and calls are answered normally again. Real time (marked slow).
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from hotline.db.models import Recording
from hotline.jobs.scheduler import Worker
from hotline.services import spool
from tests.faults.running import queue_text, settled, state, wait_for
from tests.helpers import BACKEND, TwilioSigner, call_params, new_sid

pytestmark = pytest.mark.slow

VOICEMAILS = 24


def _leave_voicemails(twilio: TwilioSigner, count: int) -> list[str]:
    """`count` callers reach the fallback and leave a voicemail; Twilio retries every third callback."""
    sids = []
    for index in range(count):
        call = call_params(from_=f"+45670001{index:02d}")
        answer = twilio.post("/twilio/voice", call)
        assert answer.status_code == 200
        assert "tekniske problemer" in answer.get_data(as_text=True), "the caller hears the fallback answer"
        recording = {**call, "RecordingSid": new_sid("RE"), "RecordingDuration": "12"}
        recording["RecordingUrl"] = f"https://api.twilio.com/rec/{recording['RecordingSid']}"
        for _ in range(2 if index % 3 == 0 else 1):
            saved = twilio.post("/twilio/voice/fallback/recording", recording)
            assert saved.status_code == 200
        sids.append(recording["RecordingSid"])
    return sids


def _recordings(app: Flask) -> int:
    try:
        with app.extensions["hotline"].sessions() as session:
            return session.scalar(select(func.count()).select_from(Recording)) or 0
    except Exception:
        return -1


def _readyz(app: Flask) -> tuple[int, list[str]]:
    response = app.test_client().get("/readyz")
    return response.status_code, (response.get_json() or {}).get("problems", [])


def _back_in_service(app: Flask, twilio: TwilioSigner, sids: list[str]) -> None:
    instance: Path = app.extensions["hotline"].settings.instance_path
    started = time.monotonic()
    assert wait_for(lambda: _readyz(app)[0] == 200, 60), f"/readyz is healthy again: {_readyz(app)}"
    assert wait_for(lambda: spool.pending(instance) == 0, 60), "every spooled voicemail is imported"
    print(f"back in service {time.monotonic() - started:.1f} s after the database returned")
    assert _recordings(app) == len(sids), "each voicemail exactly once"
    greeting = twilio.post("/twilio/voice", call_params()).get_data(as_text=True)
    assert "tekniske problemer" not in greeting, "a new call is answered normally"
    text_id = queue_text(app, "after-restore")
    assert wait_for(lambda: state(app, text_id) == "sent", 30), "texts are sent again"


@pytest.mark.skipif(BACKEND != "sqlite", reason="the SQLite file")
def test_a_sqlite_file_restored_from_backup_brings_everything_back(fast_app: Flask, worker: Worker) -> None:
    """The file is removed under the running app (an operator about to restore it) and restored from a backup
    20 s later. The app must not quietly start an empty database in its place, must say on /readyz what is
    wrong, and must let go of connections to the removed file once the restored one is there."""
    settled(fast_app, worker)
    twilio = TwilioSigner(fast_app.test_client(), fast_app.extensions["hotline"].signing_secret)
    path = Path(str(make_url(str(fast_app.extensions["hotline"].engine.url)).database))
    backup = path.with_name("backup.db")
    with sqlite3.connect(path) as live, sqlite3.connect(backup) as copy:
        live.backup(copy)
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)

    sids = _leave_voicemails(twilio, VOICEMAILS)
    status, problems = _readyz(fast_app)
    assert status == 503
    assert any("restore" in problem and "hotline db upgrade" in problem for problem in problems), problems
    time.sleep(5)  # the scheduler's jobs run against the missing file for a while
    assert not path.exists(), "no empty database was created in the missing file's place"
    assert spool.pending(fast_app.extensions["hotline"].settings.instance_path) == VOICEMAILS

    shutil.copy(backup, path)
    _back_in_service(fast_app, twilio, sids)


@pytest.mark.skipif(BACKEND != "postgres", reason="PostgreSQL's databases")
def test_a_postgresql_database_renamed_away_and_back_brings_everything_back(
    fast_app: Flask, worker: Worker
) -> None:
    """The database is renamed for 20 s (every connection to it terminated first, as a rename requires): the
    app answers with the fallback, spools, and imports every voicemail once when the name is back."""
    settled(fast_app, worker)
    twilio = TwilioSigner(fast_app.test_client(), fast_app.extensions["hotline"].signing_secret)
    url = make_url(str(fast_app.extensions["hotline"].engine.url))
    name, away = str(url.database), f"{url.database}_away"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def rename(old: str, new: str) -> None:
        with admin.connect() as connection:
            for _ in range(20):  # the hotline reconnects between our terminate and the rename: try again
                connection.execute(
                    text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                    {"name": old},
                )
                try:
                    connection.execute(text(f'ALTER DATABASE "{old}" RENAME TO "{new}"'))
                    return
                except Exception:
                    time.sleep(0.05)
            raise AssertionError(f"could not rename {old}")

    rename(name, away)
    try:
        sids = _leave_voicemails(twilio, VOICEMAILS)
        status, problems = _readyz(fast_app)
        assert status == 503 and problems, problems
        time.sleep(15)
    finally:
        rename(away, name)
    _back_in_service(fast_app, twilio, sids)
    admin.dispose()

"""The database layer: idempotent inserts, aware UTC times, SQLite pragmas, schema currency."""

from __future__ import annotations

import os
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from hotline.db.models import Call, SchedulerHeartbeat
from hotline.db.session import (
    head_revision,
    insert_ignore,
    make_engine,
    schema_problem,
    unreachable_problem,
)
from tests.helpers import BACKEND


def test_insert_ignore_reports_only_the_first_insert(app: Flask) -> None:
    sessions = app.extensions["hotline"].sessions
    values = {
        "instance_id": "a",
        "hostname": "h",
        "pid": 1,
        "is_leader": False,
        "started_at": datetime.now(UTC),
        "beat_at": datetime.now(UTC),
    }
    with sessions.begin() as session:
        assert insert_ignore(session, SchedulerHeartbeat, values, ["instance_id"]) is True
    with sessions.begin() as session:
        assert insert_ignore(session, SchedulerHeartbeat, {**values, "pid": 2}, ["instance_id"]) is False
    with sessions() as session:
        assert session.scalars(select(SchedulerHeartbeat.pid)).all() == [1]


def test_times_come_back_aware_in_utc_and_naive_ones_are_refused(app: Flask) -> None:
    sessions = app.extensions["hotline"].sessions
    copenhagen_summer = timezone(timedelta(hours=2))
    with sessions.begin() as session:
        session.add(
            Call(
                call_sid="CA" + "1" * 32,
                direction="inbound",
                status="ringing",
                created_at=datetime(2026, 10, 25, 2, 30, tzinfo=copenhagen_summer),
            )
        )
    with sessions() as session:
        call = session.scalars(select(Call)).one()
    assert call.created_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert call.created_at.utcoffset() == timedelta(0)
    with pytest.raises(Exception, match="naive datetime"), sessions.begin() as session:
        session.add(
            Call(
                call_sid="CA" + "2" * 32,
                direction="inbound",
                status="ringing",
                created_at=datetime(2026, 10, 25, 2, 30),
            )
        )


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite pragmas")
def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        assert conn.execute(text("PRAGMA cache_size")).scalar() == -16 * 1024  # KiB: 16 MiB
        assert conn.execute(text("PRAGMA mmap_size")).scalar() == 256 * 1024 * 1024
    engine.dispose()


@pytest.mark.skipif(BACKEND != "sqlite", reason="the SQLite file")
def test_a_removed_sqlite_file_is_named_not_recreated_and_a_restored_one_is_used(
    database_url: str, tmp_path: Path
) -> None:
    """An operator removes the file to restore a backup: nothing is written to the removed file (where it would
    be lost), no empty database appears in its place, the error says what to do, and the restored file is used
    by the same engine's pool."""
    engine = make_engine(database_url)
    path = Path(str(engine.url.database))
    backup = tmp_path / "backup.db"
    with engine.begin() as conn:  # a pooled connection to the file as it is now
        conn.execute(text("CREATE TABLE marker (value TEXT)"))
    shutil.copy(path, backup)
    path.unlink()
    missing = pytest.raises(OperationalError, match=r"is missing: restore it .* or run `hotline db upgrade`")
    with missing, engine.begin() as conn:
        conn.execute(text("INSERT INTO marker VALUES ('lost')"))
    assert not path.exists()
    assert unreachable_problem(engine, OperationalError("", {}, Exception())).startswith(
        f"the database file {path} is missing"
    )
    shutil.copy(backup, path)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO marker VALUES ('kept')"))
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT value FROM marker").fetchall() == [("kept",)]
    engine.dispose()


def test_schema_problem_names_the_command(tmp_path: object, database_url: str) -> None:
    engine = make_engine(database_url)
    assert schema_problem(engine) is None
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'old'"))
    assert (
        schema_problem(engine)
        == f"the database schema is at old but this code needs {head_revision()}; run `hotline db upgrade`"
    )
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head_revision()})
    engine.dispose()


def test_the_migrations_build_exactly_the_models(database_url: str) -> None:
    """A model changed without a migration (or the reverse) shows here, on SQLite and on PostgreSQL."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from hotline.db.models import Base

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_the_sqlite_database_and_its_folder_are_private(tmp_path: Path) -> None:
    """The embedded database holds personal data: its folder, the file and SQLite's -wal and -shm files are
    readable by the owner only, whatever the umask."""
    previous = os.umask(0o022)
    try:
        path = tmp_path / "new-instance" / "hotline.db"
        engine = make_engine(f"sqlite:///{path}")
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
            connection.execute(text("INSERT INTO t VALUES (1)"))
            modes = {p.name: oct(p.stat().st_mode & 0o777) for p in path.parent.iterdir()}
        engine.dispose()
    finally:
        os.umask(previous)
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    assert modes == {"hotline.db": "0o600", "hotline.db-wal": "0o600", "hotline.db-shm": "0o600"}

"""Shared fixtures: a migrated database (SQLite always; PostgreSQL when HOTLINE_TEST_DATABASE=postgres), the real
app built by create_app, a client that signs requests the way Twilio does, and a runner for `hotline` commands.

Fixtures only: what tests share besides fixtures (numbers, rosters, signing, builders) is in tests/helpers.py.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from hotline.app import create_app
from hotline.db.models import Base
from hotline.db.session import make_engine, upgrade
from tests.helpers import BACKEND, HotlineRunner, TwilioSigner
from tests.pgprobe import DEFAULT_URL

# HOTLINE_TEST_NOW=2026-10-25T00:30:00+00:00 runs every test as if it started at that instant (the clock ticks on
# from there), to find tests that only pass at some hours of the day. Tests marked slow start real processes,
# whose clocks it cannot move, so they keep real time. See docs/testing.md.
TEST_NOW = os.environ.get("HOTLINE_TEST_NOW")


@pytest.fixture(autouse=True)
def _test_now(request: pytest.FixtureRequest) -> Iterator[None]:
    if not TEST_NOW or request.node.get_closest_marker("slow"):
        yield
        return
    with time_machine.travel(datetime.fromisoformat(TEST_NOW)):
        yield


def _pg_admin_url() -> str:
    return (os.environ.get("HOTLINE_TEST_POSTGRES_URL") or DEFAULT_URL).replace(
        "postgresql+psycopg://", "postgresql://"
    )


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database for the session: a SQLite file to copy, or a PostgreSQL database to empty."""
    if BACKEND == "postgres":
        name = f"hotline_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        admin = _pg_admin_url()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = _with_database(admin, name).replace("postgresql://", "postgresql+psycopg://")
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        engine.dispose()
        yield str(path)


@pytest.fixture(scope="session")
def fresh_database(database_template: str) -> Iterator[Callable[[Path], str]]:
    """`fresh_database(path)`: the URL of a migrated, empty database, either the SQLite template copied to `path`
    (no connection may be open to a file it replaces), or the session's PostgreSQL database emptied (one test
    uses it at a time)."""
    if BACKEND == "postgres":
        engine = make_engine(database_template)

        def empty(_path: Path) -> str:
            # DELETE, not TRUNCATE: on tables this small it takes a few milliseconds instead of a hundred.
            with engine.begin() as conn:
                for table in reversed(Base.metadata.sorted_tables):
                    conn.execute(table.delete())
                # Every sequence starts again at 1, as TRUNCATE ... RESTART IDENTITY would.
                conn.execute(text("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'"))
                conn.execute(text("DROP TABLE IF EXISTS apscheduler_jobs"))
            return database_template

        yield empty
        engine.dispose()
        return

    def copy(path: Path) -> str:
        for journal in ("-wal", "-shm"):  # left by a connection that did not close cleanly
            path.with_name(path.name + journal).unlink(missing_ok=True)
        shutil.copy(database_template, path)
        return f"sqlite:///{path}"

    yield copy


@pytest.fixture
def database_url(fresh_database: Callable[[Path], str], tmp_path: Path) -> str:
    """A fresh, migrated, empty database for one test."""
    return fresh_database(tmp_path / "hotline.db")


@pytest.fixture
def instance_dir(tmp_path: Path) -> Path:
    path = tmp_path / "instance"
    path.mkdir()
    return path


@pytest.fixture
def settings_mapping(database_url: str, instance_dir: Path) -> dict[str, Any]:
    """What tests pass to create_app: environment names plus config overrides (demo mode, no credentials)."""
    return {
        "HOTLINE_DATABASE_URL": database_url,
        "config_path": str(Path(__file__).resolve().parent.parent / "config.yaml"),
        "config": {"instance_dir": str(instance_dir), "logging": {"level": "DEBUG"}},
    }


@pytest.fixture
def app(settings_mapping: dict[str, Any]) -> Iterator[Flask]:
    application = create_app(settings_mapping)
    yield application
    application.extensions["hotline"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def twilio(app: Flask, client: FlaskClient) -> TwilioSigner:
    return TwilioSigner(client, app.extensions["hotline"].signing_secret)


@pytest.fixture
def runner(settings_mapping: dict[str, Any], tmp_path: Path) -> HotlineRunner:
    """Runs `hotline` commands on the database and instance folder the `app` fixture uses."""
    return HotlineRunner(settings_mapping, tmp_path / "hotline-config.yaml")


@pytest.fixture
def empty_app(
    fresh_database: Callable[[Path], str], settings_mapping: dict[str, Any], tmp_path: Path
) -> Iterator[Callable[[], AbstractContextManager[Flask]]]:
    """`with empty_app() as app:` is the app on a fresh, empty database each time, for a Hypothesis test whose
    examples share the test's fixtures but must not see each other's rows.

    Only the database is new each time (a new copy of the migrated template, or PostgreSQL emptied); the app is
    built once, and keeps its warm SQLAlchemy statement cache, so a hundred examples stay fast.
    """
    path = tmp_path / "examples.db"
    application = create_app({**settings_mapping, "HOTLINE_DATABASE_URL": fresh_database(path)})
    runtime = application.extensions["hotline"]

    @contextmanager
    def fresh() -> Iterator[Flask]:
        runtime.dispose()  # closes the pooled connections to the database being replaced
        fresh_database(path)
        yield application

    yield fresh
    runtime.dispose()

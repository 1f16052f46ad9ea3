"""Shared fixtures: a migrated database (SQLite always; PostgreSQL when HOTLINE_TEST_DATABASE=postgres), the real
app built by create_app, and a client that signs requests the way Twilio does.

Phone numbers in tests come only from the Danish reserve series, which the numbering plan keeps unassigned:
+45 67 xx xx xx for relatives and +45 68 xx xx xx for advisors and the hotline itself (see docs/testing.md).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from hotline.app import create_app
from hotline.db.models import Base
from hotline.db.session import make_engine, upgrade
from tests.pgprobe import DEFAULT_URL

BACKEND = os.environ.get("HOTLINE_TEST_DATABASE", "sqlite")
RELATIVE = "+4567123456"
HOTLINE = "+4568000000"


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
    """A migrated database for the session: a SQLite file to copy, or a PostgreSQL database to truncate."""
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


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> str:
    """A fresh, migrated, empty database for one test."""
    if BACKEND == "postgres":
        engine = make_engine(database_template)
        with engine.begin() as conn:
            tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            conn.execute(text("DROP TABLE IF EXISTS apscheduler_jobs"))
        engine.dispose()
        return database_template
    target = tmp_path / "hotline.db"
    shutil.copy(database_template, target)
    return f"sqlite:///{target}"


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
    application.extensions["hotline"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def sign(secret: str, url: str, params: Mapping[str, str]) -> str:
    """X-Twilio-Signature for a POST to `url` with form `params`, computed as Twilio does."""
    return str(RequestValidator(secret).compute_signature(url, dict(params)))


class TwilioSigner:
    """Posts form requests to the app signed with the app's secret, as Twilio would."""

    def __init__(self, client: FlaskClient, secret: str, base: str = "http://localhost") -> None:
        self.client = client
        self.secret = secret
        self.base = base

    def post(self, path: str, params: Mapping[str, str], **kwargs: Any) -> TestResponse:
        headers = {"X-Twilio-Signature": sign(self.secret, self.base + path, params)}
        headers.update(kwargs.pop("headers", {}))
        return self.client.post(path, data=dict(params), headers=headers, **kwargs)


@pytest.fixture
def twilio(app: Flask, client: FlaskClient) -> TwilioSigner:
    return TwilioSigner(client, app.extensions["hotline"].signing_secret)


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def call_params(call_sid: str | None = None, from_: str = RELATIVE, **extra: str) -> dict[str, str]:
    params = {
        "CallSid": call_sid or new_sid("CA"),
        "AccountSid": "AC" + "0" * 32,
        "From": from_,
        "To": HOTLINE,
        "CallStatus": "ringing",
        "Direction": "inbound",
    }
    params.update(extra)
    return params

"""The console never takes the webhooks down with it (issue 10 item 8): its own small pool, a time limit on its
statements, and with the database down it says so on every page, the sign-in page included."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from hotline.db.models import Call
from tests.helpers import (
    BACKEND,
    AppFactory,
    TwilioSigner,
    add_staff,
    call_params,
    console_login,
    import_roster,
)

LIMITS = {"database_connections": 2, "database_wait_seconds": 0.3, "statement_seconds": 0.5}


@pytest.fixture
def limited(make_app: AppFactory) -> Iterator[Flask]:
    app = make_app(config={"console": LIMITS})
    import_roster(app)
    add_staff(app, "anna")
    yield app


def test_a_console_with_every_connection_taken_cannot_hold_up_a_call(limited: Flask) -> None:
    """Every connection the console may have is busy (slow pages, a stuck query): a call is still answered
    with the greeting at once, from the webhooks' own pool, and the console says it is busy instead of hanging."""
    runtime = limited.extensions["hotline"]
    anna = limited.test_client()
    assert console_login(anna, "anna").status_code == 302
    with ExitStack() as held:
        for _ in range(LIMITS["database_connections"]):
            held.enter_context(runtime.console_engine.connect()).execute(text("SELECT 1"))
        twilio = TwilioSigner(limited.test_client(), runtime.signing_secret)
        call = call_params()
        answer = twilio.post("/twilio/voice", call).get_data(as_text=True)
        assert "<Gather" in answer and "tekniske problemer" not in answer, "the caller hears the greeting"
        with runtime.sessions() as session:
            assert session.query(Call).filter_by(call_sid=call["CallSid"]).count() == 1
        busy = anna.get("/console/")
        assert busy.status_code == 503
        assert "Databasen svarer ikke lige nu." in busy.get_data(as_text=True)
    assert anna.get("/console/").status_code == 200, "the console works again once its connections are free"


def test_a_slow_console_query_is_stopped_and_the_webhooks_are_not_limited(limited: Flask) -> None:
    runtime = limited.extensions["hotline"]
    slow = (
        "SELECT pg_sleep(3)"
        if BACKEND == "postgres"
        else "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000000) "
        "SELECT count(*) FROM c"
    )
    with pytest.raises(OperationalError), runtime.console_sessions() as session:
        session.execute(text(slow))
    # The webhooks' pool has no such limit (a call's work is short; a long one must finish, not be cut).
    with runtime.sessions() as session:
        assert session.execute(text("SELECT 1")).scalar() == 1
        if BACKEND == "postgres":
            assert session.execute(text("SHOW statement_timeout")).scalar() == "0"


def test_the_sign_in_page_says_when_the_database_is_down(make_app: AppFactory) -> None:
    down = make_app(HOTLINE_DATABASE_URL="postgresql://hotline@127.0.0.1:1/nowhere").test_client()
    page = down.get("/console/login")
    assert page.status_code == 200  # the form is still shown, with why signing in will not work now
    assert 'id="database-down"' in page.get_data(as_text=True)
    assert "Databasen svarer ikke lige nu." in page.get_data(as_text=True)


def test_the_sign_in_page_is_plain_when_the_database_answers(limited: Flask) -> None:
    page = limited.test_client().get("/console/login").get_data(as_text=True)
    assert 'id="database-down"' not in page
    assert page.count('id="oidc"') <= 1 and "<title>" in page and "<p" not in page.split("</title>")[0]


def test_no_console_page_opens_a_session_on_the_webhooks_pool() -> None:
    """Every page works on the console's own pool (`runtime.console_sessions`): one that opened
    `runtime.sessions` would take the connections calls are answered with, and this test would name it."""
    console = Path(__file__).resolve().parents[2] / "hotline" / "staff" / "console"
    found = [
        f"{path.name}:{number}"
        for path in sorted(console.glob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"\.sessions\b", line)
    ]
    assert found == []

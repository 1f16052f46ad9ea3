"""The staff pages behind the links in staff texts: reached from the text itself, read-only, expiring, and
never showing a relative's number or rendering anyone's words as markup."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from hotline.db.models import CallbackRequest
from hotline.jobs import shifts
from hotline.runtime import Runtime
from hotline.services import callback_queue, staff_texts
from hotline.services.links import parse_staff_token, staff_link, staff_token
from routing.callbacks import Priority
from tests.helpers import PHONES, RELATIVE, AppFactory, register_callback, texts, utc

START = utc(2026, 6, 10, 21, 0)  # bo's night shift starts at 23:00 CEST (the DAILY_SHIFTS roster)
NOTE = 'Ring efter kl. 9 <script>alert("x")</script> \u202eشكرا'


def _path(body: str | None) -> str:
    assert body is not None
    match = re.search(r"http://127\.0\.0\.1:8000(/staff/\S+)$", body)
    assert match, body
    return match.group(1)


def _handover_link(runtime: Runtime, advisor: str = "bo") -> str:
    (handover,) = (t for t in texts(runtime, "handover") if t.to_number == PHONES[advisor])
    return _path(handover.body)


def _get(app: Flask, path: str, at: datetime) -> Any:
    with time_machine.travel(at, tick=False):
        return app.test_client().get(path)


@pytest.fixture
def handed_over(app: Flask, runtime: Runtime) -> str:
    """Two open callbacks (one acute, one with a note), bo's shift starts: the link in bo's handover text."""
    register_callback(runtime, START - timedelta(hours=3), window="tomorrow_daytime", number="+4567200002")
    register_callback(runtime, START - timedelta(hours=2), window="asap", priority=Priority.ACUTE)
    with runtime.sessions.begin() as session:
        question = session.scalars(select(CallbackRequest).order_by(CallbackRequest.id)).first()
        assert question is not None
        callback_queue.add_note(session, question, "anna", NOTE, START - timedelta(minutes=5))
    shifts.shift_starts(runtime, START)
    return _handover_link(runtime)


def test_the_handover_link_in_the_text_opens_the_handover(
    app: Flask, runtime: Runtime, handed_over: str
) -> None:
    response = _get(app, handed_over, START + timedelta(minutes=3))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Overlevering til Bo Prøve" in page
    assert "2 åbne sager, heraf 1 akut, og 1 note." in page
    assert "arabisk" in page  # the relative's language, in Danish
    with runtime.sessions() as session:
        acute, question = sorted(
            session.scalars(select(CallbackRequest)), key=lambda c: c.priority != Priority.ACUTE.value
        )
        refs = staff_texts.reference(acute), staff_texts.reference(question)
    assert page.index(refs[0]) < page.index(refs[1])  # acute first
    assert "akut" in page and "spørgsmål" in page
    assert "Anna Prøve:" in page  # who left the note


def test_the_handover_never_shows_numbers_or_renders_words_as_markup(app: Flask, handed_over: str) -> None:
    response = _get(app, handed_over, START + timedelta(minutes=3))
    page = response.get_data(as_text=True)
    assert "<script>" not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "\u202eشكرا" in page  # stored words are shown as written, inside an isolating block
    for number in (RELATIVE, "+4567200002", "67 12", "67 20"):
        assert number not in page
    assert not re.search(r"\+45\s?\d", page)
    headers = response.headers
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in headers["X-Robots-Tag"]
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_the_handover_is_live_not_a_snapshot(app: Flask, runtime: Runtime, handed_over: str) -> None:
    register_callback(runtime, START + timedelta(hours=1), window="asap", number="+4567200003")
    page = _get(app, handed_over, START + timedelta(hours=1, minutes=1)).get_data(as_text=True)
    assert "3 åbne sager" in page


def test_a_handover_link_expires_twelve_hours_after_the_shift(app: Flask, handed_over: str) -> None:
    shift_end = START + timedelta(hours=8)  # bo's night shift: 23:00-07:00
    assert _get(app, handed_over, shift_end + timedelta(hours=11, minutes=59)).status_code == 200
    gone = _get(app, handed_over, shift_end + timedelta(hours=12))
    assert gone.status_code == 404 and "Linket virker ikke længere" in gone.get_data(as_text=True)
    assert gone.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: p[:-1] + ("0" if p[-1] != "0" else "1"),  # the mac
        lambda p: p.replace("/bo.", "/anna."),  # another advisor with bo's mac
        lambda p: p.replace("/handover/", "/roster/"),  # another page
        lambda p: re.sub(r"\.([0-9a-f]{8})\.", ".ffffffff.", p),  # a later expiry
        lambda p: "/staff/handover/garbage",
        lambda p: "/staff/handover/..",
    ],
    ids=["mac", "advisor", "page", "expiry", "garbage", "dots"],
)
def test_a_tampered_link_gets_the_same_404(app: Flask, handed_over: str, tamper: Any) -> None:
    response = _get(app, tamper(handed_over), START + timedelta(minutes=3))
    assert response.status_code == 404
    assert "Linket virker ikke længere" in response.get_data(as_text=True)


def test_tokens_round_trip_and_refuse_what_they_should(app: Flask) -> None:
    runtime: Runtime = app.extensions["hotline"]
    expires = datetime(2026, 6, 11, 5, tzinfo=UTC)
    token = staff_token(runtime, "handover", "team.lead", expires)  # an id with a dot still parses
    assert parse_staff_token(runtime, "handover", token, expires - timedelta(seconds=1)) == "team.lead"
    assert parse_staff_token(runtime, "handover", token, expires) is None
    assert parse_staff_token(runtime, "roster", token, expires - timedelta(hours=1)) is None
    with pytest.raises(ValueError, match="must be one of handover, roster"):
        staff_token(runtime, "inbox", "bo", expires)


def test_a_municipal_staff_system_gets_plain_links(make_app: AppFactory) -> None:
    runtime = make_app({"sms": {"staff_url": "https://intra.aarhus.dk/paaroerende/"}}).extensions["hotline"]
    link = staff_link(runtime, "handover", "bo", START)
    assert link == "https://intra.aarhus.dk/paaroerende/handover"


def test_the_roster_link_shows_the_gaps_and_who_is_on_call(app: Flask, runtime: Runtime) -> None:
    night = utc(2026, 3, 28, 22, 0)  # bo is off sick on the night into the March DST Sunday
    shifts.shift_starts(runtime, night)
    (alert,) = texts(runtime, "roster_gap")
    assert alert.to_number == PHONES["mads"]
    path = _path(alert.body)
    assert path.startswith("/staff/roster/mads.")
    response = _get(app, path, night + timedelta(minutes=10))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Huller i vagtplanen" in page
    assert "i nat mellem 23.10 og 7" in page  # the gap as it stands now: from now until 07:00 CEST
    assert "29/03 07:00" in page
    assert "Mads Prøve" in page and "leder" in page  # the manager layer is on call
    assert response.headers["Cache-Control"] == "no-store"
    assert _get(app, path, night + timedelta(days=8, minutes=1)).status_code == 404


def test_a_database_outage_gets_a_plain_503_page(
    app: Flask, handed_over: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    def down(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("SELECT", {}, Exception("the database is down"))

    monkeypatch.setattr(callback_queue, "queue", down)
    response = _get(app, handed_over, START + timedelta(minutes=3))
    assert response.status_code == 503
    assert "Siden kan ikke vises lige nu" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


def test_a_voicemail_from_a_withheld_number_is_in_the_handover(
    app: Flask, runtime: Runtime, handed_over: str
) -> None:
    """A task nobody can dial is still a case the incoming shift sees, with its recording and how to close it."""
    with runtime.sessions.begin() as session:
        task = callback_queue.register_task(
            session,
            call_sid="CA" + "7" * 32,
            language="da",
            settings=runtime.settings.file.callbacks,
            now=START + timedelta(minutes=10),
            actor="system:voicemail",
            recording_sid="RE" + "7" * 32,
        )
        reference = staff_texts.reference(task)
    page = _get(app, handed_over, START + timedelta(minutes=11)).get_data(as_text=True)
    assert "3 åbne sager" in page and reference in page
    assert "RE" + "7" * 32 in page and "talebesked" in page
    assert "skjult nummer" in page and "hotline callbacks close" in page

"""The handover in the console: the text links to it, the advisor signs in and sees the work that falls to them
(acute first, the notes left, what colleagues on shift hold, the texts waiting), marks it read, and the token
links texted before the console lead there too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from hotline.db.models import AuditEntry, CallbackRequest, HandoverRead, Message
from hotline.jobs import shifts
from hotline.runtime import Runtime
from hotline.services import callback_queue, handover, relatives, staff_texts
from hotline.services.links import console_link, staff_token
from routing.callbacks import Priority
from routing.wallclock import COPENHAGEN
from tests.helpers import (
    DAILY_SHIFTS,
    PHONES,
    RELATIVE,
    AppFactory,
    add_staff,
    console_login,
    csrf_token,
    import_roster,
    register_callback,
    texts,
    utc,
)

START = utc(2026, 6, 10, 21, 0)  # bo's night shift starts at 23:00 CEST (the DAILY_SHIFTS roster)
NOTE = 'Ring efter kl. 9 <script>alert("x")</script> \u202eشكرا'
CONSOLE = "http://127.0.0.1:8000/console/handover"

# bo works the night as primary and dalia as backup: both are on shift at START.
TWO_ON_SHIFT = DAILY_SHIFTS.replace(
    "  manager:", '  backup:\n    - {advisor: dalia, days: daily, start: "23:00", end: "07:00"}\n  manager:'
)


@pytest.fixture
def staffed(app: Flask, runtime: Runtime) -> Flask:
    for advisor in ("anna", "bo", "dalia"):
        add_staff(app, advisor)
    add_staff(app, "carl", role="manager", advisor_id=None)
    return app


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    with time_machine.travel(moment, tick=False):
        yield


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert console_login(client, username).status_code == 302
    return client


def page_of(app: Flask, username: str, moment: datetime) -> str:
    with at(moment):
        response = signed_in(app, username).get("/console/handover")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _link(runtime: Runtime, advisor: str = "bo") -> str:
    (text,) = (t for t in texts(runtime, "handover") if t.to_number == PHONES[advisor])
    assert text.body is not None
    found = re.search(r"(http://\S+)$", text.body)
    assert found, text.body
    return found.group(1)


@pytest.fixture
def handed_over(staffed: Flask, runtime: Runtime) -> Runtime:
    """Two open callbacks (one acute, one with a note); bo's shift starts and the handover text goes out."""
    register_callback(runtime, START - timedelta(hours=3), window="tomorrow_daytime", number="+4567200002")
    register_callback(runtime, START - timedelta(hours=2), window="asap", priority=Priority.ACUTE)
    with runtime.sessions.begin() as session:
        question = session.scalars(select(CallbackRequest).order_by(CallbackRequest.id)).first()
        assert question is not None
        callback_queue.add_note(session, question, "anna", NOTE, START - timedelta(minutes=5))
    shifts.shift_starts(runtime, START)
    return runtime


def test_the_handover_text_links_to_the_console_with_no_token(handed_over: Runtime) -> None:
    assert _link(handed_over) == CONSOLE
    (text,) = (t for t in texts(handed_over, "handover") if t.to_number == PHONES["bo"])
    assert text.body is not None and "/staff/" not in text.body


def test_a_municipal_staff_system_gets_its_own_link(make_app: AppFactory) -> None:
    settings = make_app({"sms": {"staff_url": "https://intra.aarhus.dk/paaroerende/"}}).extensions["hotline"]
    assert console_link(settings.settings, "handover") == "https://intra.aarhus.dk/paaroerende/handover"


def test_the_link_after_signing_in_opens_the_handover(staffed: Flask, handed_over: Runtime) -> None:
    client = staffed.test_client()
    with at(START + timedelta(minutes=3)):
        first = client.get("/console/handover")
        assert first.headers["Location"] == "/console/login?next=/console/handover"
        token = csrf_token(client, first.headers["Location"])
        signed = client.post(
            first.headers["Location"],
            data={"username": "bo", "password": "en lang sætning som adgangskode", "csrf_token": token},
        )
        assert signed.headers["Location"] == "/console/handover"
        page = client.get("/console/handover").get_data(as_text=True)
    assert "Overlevering til Bo Prøve" in page
    assert "2 åbne sager, heraf 1 akut, og 1 note." in page
    assert "arabisk" in page  # the relative's language, in Danish
    with handed_over.sessions() as session:
        acute, question = sorted(
            session.scalars(select(CallbackRequest)), key=lambda c: c.priority != Priority.ACUTE.value
        )
        refs = staff_texts.reference(acute), staff_texts.reference(question)
    assert page.index(refs[0]) < page.index(refs[1])  # acute first
    assert "akut" in page and "spørgsmål" in page
    assert "Anna Prøve:" in page  # who left the note
    assert f'href="/console/relatives/{question.relative_id}"' in page  # each case opens its timeline


def test_the_handover_never_shows_numbers_or_renders_words_as_markup(
    staffed: Flask, handed_over: Runtime
) -> None:
    with at(START + timedelta(minutes=3)):
        response = signed_in(staffed, "bo").get("/console/handover")
    page = response.get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "\u202eشكرا" in page  # stored words are shown as written, inside an isolating block
    for number in (RELATIVE, "+4567200002", "67 12", "67 20"):
        assert number not in page
    assert not re.search(r"\+45\s?\d", page)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_the_handover_is_live_not_a_snapshot(staffed: Flask, handed_over: Runtime) -> None:
    register_callback(handed_over, START + timedelta(hours=1), window="asap", number="+4567200003")
    assert "3 åbne sager" in page_of(staffed, "bo", START + timedelta(hours=1, minutes=1))


def test_showing_the_handover_is_audited_per_relative(staffed: Flask, handed_over: Runtime) -> None:
    page_of(staffed, "bo", START + timedelta(minutes=3))
    with handed_over.sessions() as session:
        relative_ids = sorted(c.relative_id or 0 for c in session.scalars(select(CallbackRequest)))
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "viewed")))
    assert sorted(r.relative_id or 0 for r in rows) == relative_ids
    assert {(r.actor, r.subject) for r in rows} == {("bo", "handover")}


def test_the_advisor_marks_the_handover_of_their_shift_read(staffed: Flask, handed_over: Runtime) -> None:
    moment = START + timedelta(minutes=3)
    with at(moment):
        client = signed_in(staffed, "bo")
        page = client.get("/console/handover").get_data(as_text=True)
        assert "Din vagt: 10/06 23:00–11/06 07:00." in page
        key = re.search(r'name="shift" value="(\d+)"', page)
        assert key and int(key.group(1)) == int(START.timestamp())
        token = csrf_token(client, "/console/handover")
        assert (
            client.post("/console/handover/read", data={"shift": "123", "csrf_token": token}).status_code
            == 302
        )
        assert "Markér som læst" in client.get("/console/handover").get_data(as_text=True)  # not that shift
        assert client.post("/console/handover/read", data={"shift": key.group(1)}).status_code == 400  # CSRF
        client.post("/console/handover/read", data={"shift": key.group(1), "csrf_token": token})
        page = client.get("/console/handover").get_data(as_text=True)
    assert "Læst kl. 23:03." in page and "Markér som læst" not in page
    with at(moment + timedelta(minutes=5)):
        client.post("/console/handover/read", data={"shift": key.group(1), "csrf_token": token})  # once
    with handed_over.sessions() as session:
        (read,) = session.scalars(select(HandoverRead))
        assert (read.advisor_id, read.shift_start, read.read_at) == ("bo", START, moment)
        assert handover.read_at(session, "bo", START) == moment
        changes = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "changed")))
    assert [(c.actor, c.subject, c.relative_id) for c in changes] == [("bo", "handover", None)]
    # The next shift has a handover of its own, unread.
    assert "Markér som læst" in page_of(staffed, "bo", START + timedelta(days=1, minutes=3))


def test_an_advisor_off_shift_sees_the_work_but_marks_nothing(staffed: Flask, handed_over: Runtime) -> None:
    moment = START + timedelta(minutes=3)  # anna works 07-15
    page = page_of(staffed, "anna", moment)
    assert "Du er ikke på vagt nu." in page and "Markér som læst" not in page
    with at(moment):
        client = signed_in(staffed, "anna")
        token = csrf_token(client, "/console/handover")
        client.post(
            "/console/handover/read", data={"shift": str(int(START.timestamp())), "csrf_token": token}
        )
    with handed_over.sessions() as session:
        assert session.scalars(select(HandoverRead)).first() is None


def test_an_account_without_an_advisor_is_told_the_handover_is_per_advisor(
    staffed: Flask, handed_over: Runtime
) -> None:
    page = page_of(staffed, "carl", START + timedelta(minutes=3))
    assert "Din konto hører ikke til en rådgiver i vagtplanen." in page


def test_a_token_link_texted_before_the_console_leads_to_it_after_signing_in(
    staffed: Flask, handed_over: Runtime
) -> None:
    token = staff_token(handed_over, "handover", "bo", START + timedelta(hours=20))
    client = staffed.test_client()
    with at(START + timedelta(minutes=3)):
        response = client.get(f"/staff/handover/{token}")
        assert (response.status_code, response.headers["Location"]) == (302, "/console/handover")
        assert response.headers["Cache-Control"] == "no-store"
        assert client.get("/console/handover").headers["Location"] == "/console/login?next=/console/handover"
        console_login(client, "bo")
        assert "Overlevering til Bo Prøve" in client.get("/console/handover").get_data(as_text=True)
    with at(START + timedelta(hours=20)):  # expired: refused as before, even when signed in
        gone = client.get(f"/staff/handover/{token}")
    assert gone.status_code == 404 and "Linket virker ikke længere" in gone.get_data(as_text=True)


# --- what a handover shows: the work that falls to this advisor --------------------------------------------


def _callback(runtime: Runtime, moment: datetime, number: str, assigned: str | None, note: str | None) -> str:
    callback_id = register_callback(runtime, moment, window="asap", number=number)
    with runtime.sessions.begin() as session:
        callback = session.get(CallbackRequest, callback_id)
        assert callback is not None
        callback.assigned_advisor_id = assigned
        if note is not None:
            callback_queue.add_note(session, callback, "mads", note, moment)
        return staff_texts.reference(callback)


def _inbound(runtime: Runtime, moment: datetime, number: str, body: str, sid: int) -> None:
    with runtime.sessions.begin() as session:
        relative, _ = relatives.find_or_create(session, number)
        relative.language = "ar"
        session.add(
            Message(
                message_sid=f"SM{sid:032d}",
                direction="inbound",
                from_number=number,
                body=body,
                status="received",
                relative_id=relative.id,
                created_at=moment,
                updated_at=moment,
                handled_at=moment,
            )
        )


def test_a_handover_shows_the_advisors_own_unassigned_and_orphaned_work_only(
    staffed: Flask, runtime: Runtime
) -> None:
    import_roster(staffed, TWO_ON_SHIFT)
    before = START - timedelta(hours=1)
    own = _callback(runtime, before, "+4567300001", "bo", "NOTE-FOR-BO")
    unassigned = _callback(runtime, before, "+4567300002", None, "NOTE-UNASSIGNED")
    colleague = _callback(runtime, before, "+4567300003", "dalia", "NOTE-DALIA-PRIVATE")
    off_shift = _callback(runtime, before, "+4567300004", "anna", "NOTE-ANNA-OFF-SHIFT")  # anna works 7-15
    shifts.shift_starts(runtime, START)
    moment = START + timedelta(minutes=3)

    bo = page_of(staffed, "bo", moment)
    for shown in (own, unassigned, off_shift, "NOTE-FOR-BO", "NOTE-UNASSIGNED", "NOTE-ANNA-OFF-SHIFT"):
        assert shown in bo
    assert colleague not in bo and "NOTE-DALIA-PRIVATE" not in bo
    assert "3 åbne sager, heraf 0 akutte, og 3 noter." in bo
    assert "1 åben sag mere ligger hos en kollega på vagt." in bo

    dalia = page_of(staffed, "dalia", moment)
    assert colleague in dalia and "NOTE-DALIA-PRIVATE" in dalia
    assert own not in dalia and "NOTE-FOR-BO" not in dalia

    (text,) = (t for t in texts(runtime, "handover") if t.to_number == PHONES["bo"])
    assert text.body is not None and own in text.body and colleague not in text.body


def test_a_handover_lists_texts_waiting_without_their_words(staffed: Flask, runtime: Runtime) -> None:
    before = START - timedelta(hours=2)
    _inbound(runtime, before, "+4567300011", "Hvornår kommer hjemmeplejen i morgen?", 1)
    _inbound(runtime, before, "+4567300012", "STOP", 2)  # a keyword: the hotline answered it itself
    _callback(runtime, before, "+4567300013", None, None)
    _inbound(
        runtime, before + timedelta(minutes=5), "+4567300013", "Tak, I må gerne ringe", 3
    )  # in the queue
    _inbound(
        runtime, START - timedelta(days=2), "+4567300014", "Et gammelt spørgsmål", 4
    )  # before the window
    shifts.shift_starts(runtime, START)
    page = page_of(staffed, "bo", START + timedelta(minutes=3))
    assert "Sms&#39;er der venter på svar" in page or "Sms'er der venter på svar" in page
    assert page.count("modtaget ") == 1
    assert f"modtaget {(START - timedelta(hours=2)).astimezone(COPENHAGEN):%d/%m %H:%M}, arabisk" in page
    for words in ("hjemmeplejen", "STOP", "I må gerne", "gammelt", "67 30", "+4567"):
        assert words not in page


def test_a_voicemail_from_a_withheld_number_is_in_the_handover(staffed: Flask, handed_over: Runtime) -> None:
    """A task nobody can dial is still a case the incoming shift sees, with its voicemail and how to close it."""
    with handed_over.sessions.begin() as session:
        task = callback_queue.register_task(
            session,
            call_sid="CA" + "7" * 32,
            language="da",
            settings=handed_over.settings.file.callbacks,
            now=START + timedelta(minutes=10),
            actor="system:voicemail",
            recording_sid="RE" + "7" * 32,
        )
        reference = staff_texts.reference(task)
    page = page_of(staffed, "bo", START + timedelta(minutes=11))
    assert "3 åbne sager" in page and reference in page
    assert "talebesked" in page and "Ingen optagelse i demoen." in page
    assert "skjult nummer" in page and "hotline callbacks close" in page


def test_a_manager_in_the_roster_has_a_handover_too(staffed: Flask, handed_over: Runtime) -> None:
    add_staff(staffed, "mads", role="manager", advisor_id="mads")
    page = page_of(staffed, "mads", START + timedelta(minutes=3))
    assert "Overlevering til Mads Prøve" in page and "Du er ikke på vagt nu." in page  # the manager layer

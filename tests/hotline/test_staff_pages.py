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

from hotline.db.models import CallbackRequest, Message
from hotline.jobs import shifts
from hotline.runtime import Runtime
from hotline.services import callback_queue, relatives, staff_texts
from hotline.services.links import parse_staff_token, staff_link, staff_token
from routing.callbacks import Priority
from routing.wallclock import COPENHAGEN
from tests.helpers import (
    DAILY_SHIFTS,
    PHONES,
    RELATIVE,
    AppFactory,
    HotlineRunner,
    import_roster,
    register_callback,
    texts,
    utc,
)

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


# --- links obey the roster: checked at every request, revocable per advisor --------------------------------


def _roster_without(advisor: str) -> str:
    """DAILY_SHIFTS with `advisor` gone: their line in `advisors:` and their shifts and overrides."""
    return "\n".join(line for line in DAILY_SHIFTS.splitlines() if f" {advisor}," not in line) + "\n"


def _deactivated(advisor: str) -> str:
    name = f"{{id: {advisor}, "
    assert name in DAILY_SHIFTS
    return DAILY_SHIFTS.replace(name, f"{{id: {advisor}, active: false, ")


@pytest.mark.parametrize("roster", [_deactivated, _roster_without], ids=["active-false", "removed"])
def test_a_deactivated_or_removed_advisors_handover_link_stops_at_once(
    app: Flask, runtime: Runtime, handed_over: str, roster: Any, caplog: pytest.LogCaptureFixture
) -> None:
    at = START + timedelta(minutes=3)
    assert _get(app, handed_over, at).status_code == 200
    import_roster(app, roster("bo"))
    response = _get(app, handed_over, at + timedelta(minutes=1))
    assert response.status_code == 404
    assert "Linket virker ikke længere" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert refusals  # logged, without whose link or the link itself
    token = handed_over.rsplit("/", 1)[1]
    for record in refusals:
        assert token not in str(record.__dict__) and "bo" not in record.getMessage()
    import_roster(app)  # bo back in the roster: the old link stays dead; a new shift brings a new link
    assert _get(app, handed_over, at + timedelta(minutes=2)).status_code == 404


@pytest.mark.parametrize("roster", [_deactivated, _roster_without], ids=["active-false", "removed"])
def test_a_deactivated_or_removed_managers_roster_link_stops_at_once(
    app: Flask, runtime: Runtime, roster: Any
) -> None:
    night = utc(2026, 3, 28, 22, 0)  # bo is off sick: the manager gets a roster-gap text
    shifts.shift_starts(runtime, night)
    (alert,) = texts(runtime, "roster_gap")
    path = _path(alert.body)
    assert _get(app, path, night + timedelta(minutes=5)).status_code == 200
    text = roster("mads")
    import_roster(app, text)
    gone = _get(app, path, night + timedelta(minutes=6))
    assert gone.status_code == 404 and "Linket virker ikke længere" in gone.get_data(as_text=True)


def test_revoking_an_advisors_links_retires_theirs_only(
    app: Flask, runtime: Runtime, handed_over: str, runner: HotlineRunner
) -> None:
    night = utc(2026, 3, 28, 22, 0)
    shifts.shift_starts(runtime, night)
    (alert,) = texts(runtime, "roster_gap")
    roster_link = _path(alert.body)
    result = runner.invoke(["roster", "revoke-feed", "bo"])
    assert result.exit_code == 0, result.output
    at = START + timedelta(minutes=3)
    assert _get(app, handed_over, at).status_code == 404  # bo's link in the text already sent
    assert _get(app, roster_link, night + timedelta(minutes=5)).status_code == 200  # mads's is untouched
    shifts.shift_starts(runtime, START + timedelta(days=1))  # bo's next shift: a link that works
    newest = [t for t in texts(runtime, "handover") if t.to_number == PHONES["bo"]][-1]
    assert _get(app, _path(newest.body), START + timedelta(days=1, minutes=3)).status_code == 200


# --- what a handover shows: the work that falls to this advisor --------------------------------------------

# bo works the night as primary and dalia as backup: both are on shift at START.
TWO_ON_SHIFT = DAILY_SHIFTS.replace(
    "  manager:", '  backup:\n    - {advisor: dalia, days: daily, start: "23:00", end: "07:00"}\n  manager:'
)


def _callback(runtime: Runtime, at: datetime, number: str, assigned: str | None, note: str | None) -> str:
    callback_id = register_callback(runtime, at, window="asap", number=number)
    with runtime.sessions.begin() as session:
        callback = session.get(CallbackRequest, callback_id)
        assert callback is not None
        callback.assigned_advisor_id = assigned
        if note is not None:
            callback_queue.add_note(session, callback, "mads", note, at)
        return staff_texts.reference(callback)


def _inbound(runtime: Runtime, at: datetime, number: str, body: str, sid: int) -> None:
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
                created_at=at,
                updated_at=at,
                handled_at=at,
            )
        )


def test_a_handover_shows_the_advisors_own_unassigned_and_orphaned_work_only(
    app: Flask, runtime: Runtime
) -> None:
    import_roster(app, TWO_ON_SHIFT)
    before = START - timedelta(hours=1)
    own = _callback(runtime, before, "+4567300001", "bo", "NOTE-FOR-BO")
    unassigned = _callback(runtime, before, "+4567300002", None, "NOTE-UNASSIGNED")
    colleague = _callback(runtime, before, "+4567300003", "dalia", "NOTE-DALIA-PRIVATE")
    off_shift = _callback(runtime, before, "+4567300004", "anna", "NOTE-ANNA-OFF-SHIFT")  # anna works 7-15
    shifts.shift_starts(runtime, START)
    at = START + timedelta(minutes=3)

    bo = _get(app, _handover_link(runtime, "bo"), at).get_data(as_text=True)
    for shown in (own, unassigned, off_shift, "NOTE-FOR-BO", "NOTE-UNASSIGNED", "NOTE-ANNA-OFF-SHIFT"):
        assert shown in bo
    assert colleague not in bo and "NOTE-DALIA-PRIVATE" not in bo
    assert "3 åbne sager, heraf 0 akutte, og 3 noter." in bo
    assert "1 åben sag mere ligger hos en kollega på vagt." in bo

    dalia = _get(app, _handover_link(runtime, "dalia"), at).get_data(as_text=True)
    assert colleague in dalia and "NOTE-DALIA-PRIVATE" in dalia
    assert own not in dalia and "NOTE-FOR-BO" not in dalia

    (text,) = (t for t in texts(runtime, "handover") if t.to_number == PHONES["bo"])
    assert text.body is not None and own in text.body and colleague not in text.body


def test_a_handover_lists_texts_waiting_without_their_words(app: Flask, runtime: Runtime) -> None:
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
    page = _get(app, _handover_link(runtime, "bo"), START + timedelta(minutes=3)).get_data(as_text=True)
    assert "der venter på svar" in page
    assert page.count("modtaget ") == 1
    assert f"modtaget {(START - timedelta(hours=2)).astimezone(COPENHAGEN):%d/%m %H:%M}, arabisk" in page
    for words in ("hjemmeplejen", "STOP", "I må gerne", "gammelt", "67 30", "+4567"):
        assert words not in page


@pytest.mark.parametrize(
    "path",
    [
        "/staff/handover/bo%00x.ffffffff." + "0" * 32,
        "/staff/roster/" + "b" * 300 + ".ffffffff." + "0" * 32,
        "/staff/handover/BO%C3%A9.ffffffff." + "0" * 32,
        "/calendar/advisor-bo%00x-" + "0" * 32 + ".ics",
        "/calendar/team-" + "n" * 300 + "-" + "0" * 32 + ".ics",
    ],
    ids=["nul", "long", "non-slug", "feed-nul", "feed-long"],
)
def test_a_forged_id_is_refused_before_the_database_is_asked(app: Flask, runtime: Runtime, path: str) -> None:
    """PostgreSQL refuses a NUL byte in a query: such an id must be a plain 404, not a 503 or a 500."""
    response = app.test_client().get(path)
    assert response.status_code == 404
    assert "Linket virker ikke længere" in response.get_data(as_text=True)


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

"""A relative's timeline in the console: search by number, everything that happened newest first, who sees the
number in full, the contact person set here, voicemails played through the hotline (never a Twilio URL), and an
audit row for every view and every change."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from hotline.db.models import (
    AuditEntry,
    Call,
    CallbackRequest,
    CallRouting,
    Message,
    Recording,
    Relative,
    utcnow,
)
from hotline.services import callback_queue, opt_outs, outbox, relatives
from hotline.services import timeline as timelines
from hotline.services.pseudonyms import PREFIX
from hotline.services.staff_accounts import Role
from tests.fake_twilio import FakeTwilio, error
from tests.helpers import (
    ALWAYS_ON_CALL,
    RELATIVE,
    add_staff,
    console_login,
    csrf_token,
    import_roster,
    register_callback,
)

OTHER = "+4567100077"
CALL_SID = "CA" + "3" * 32
RECORDING_SID = "RE" + "3" * 32
TWILIO_URL = "https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/" + RECORDING_SID
SOUND = b"ID3\x03\x00fake mp3 bytes" + bytes(range(256))


def seed(app: Flask) -> int:
    """A relative with a call put through (anna rang, dalia answered), a text each way, a callback with a note,
    and a voicemail; their id."""
    runtime = app.extensions["hotline"]
    now = utcnow()
    with runtime.sessions.begin() as session:
        relative, _ = relatives.find_or_create(session, RELATIVE)
        relative.language = "ar"
        at = now - timedelta(hours=3)
        session.add(
            Call(
                call_sid=CALL_SID,
                direction="inbound",
                from_number=RELATIVE,
                to_number="+4568000000",
                status="completed",
                relative_id=relative.id,
                created_at=at,
                updated_at=at,
                duration_seconds=185,
            )
        )
        session.add(
            CallRouting(
                call_sid=CALL_SID,
                relative_id=relative.id,
                reason="question",
                language="ar",
                chain="anna,dalia,bo",
                step=1,
                started_at=at,
                connected_advisor_id="dalia",
                outcome="connected",
            )
        )
        session.add(
            Recording(
                recording_sid=RECORDING_SID,
                call_sid=CALL_SID,
                recording_url=TWILIO_URL,
                duration_seconds=42,
                from_number=RELATIVE,
                source="ivr",
                received_at=now - timedelta(hours=2, minutes=50),
            )
        )
        session.add(
            Message(
                message_sid="SM" + "3" * 32,
                direction="inbound",
                from_number=RELATIVE,
                to_number="+4568000000",
                body="Hvornår kommer <b>hjemmeplejen</b>?",
                status="received",
                relative_id=relative.id,
                created_at=now - timedelta(hours=2),
                updated_at=now - timedelta(hours=2),
            )
        )
        outbox.enqueue(
            session,
            capped=True,
            to=RELATIVE,
            purpose="received",
            language="da",
            now=now - timedelta(hours=2),
            body="Tak for din besked. En rådgiver svarer dig i aften.",
            relative_id=relative.id,
        )
        relative_id = relative.id
    callback_id = register_callback(runtime, now - timedelta(hours=1), window="asap")
    with runtime.sessions.begin() as session:
        callback = session.get(CallbackRequest, callback_id)
        assert callback is not None
        callback_queue.add_note(session, callback, "bo", "Ring efter kl. 9, spørg efter datteren", now)
    return relative_id


@pytest.fixture
def staffed(rostered: Flask) -> Flask:
    add_staff(rostered, "anna")
    add_staff(rostered, "carl", role="manager", advisor_id=None)
    return rostered


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert console_login(client, username).status_code == 302
    return client


def audit_rows(app: Flask) -> list[AuditEntry]:
    with app.extensions["hotline"].sessions() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


@pytest.mark.parametrize("typed", ["67 12 34 56", "+45 67 12 34 56", "0045 6712 3456", "67-12-34-56"])
def test_a_number_typed_any_way_finds_the_relative(staffed: Flask, typed: str) -> None:
    relative_id = seed(staffed)
    client = signed_in(staffed, "anna")
    token = csrf_token(client, "/console/relatives")
    response = client.post("/console/relatives", data={"number": typed, "csrf_token": token})
    assert (response.status_code, response.headers["Location"]) == (302, f"/console/relatives/{relative_id}")


def test_a_search_names_what_is_wrong_and_never_puts_the_number_in_a_url(staffed: Flask) -> None:
    seed(staffed)
    client = signed_in(staffed, "anna")
    token = csrf_token(client, "/console/relatives")
    wrong = client.post("/console/relatives", data={"number": "hjemmepleje", "csrf_token": token})
    assert wrong.status_code == 400
    assert "Det er ikke et telefonnummer" in wrong.get_data(as_text=True)
    nobody = client.post("/console/relatives", data={"number": OTHER, "csrf_token": token})
    assert nobody.status_code == 404
    page = nobody.get_data(as_text=True)
    assert "Ingen pårørende har nummeret +45 67 10 ** **." in page and "100077" not in page
    assert 'method="post"' in page  # the number goes in the body, never in a URL (nor an access log)
    assert client.post("/console/relatives", data={"number": RELATIVE}).status_code == 400  # no CSRF token


def test_the_timeline_shows_everything_newest_first_and_is_audited(staffed: Flask) -> None:
    relative_id = seed(staffed)
    client = signed_in(staffed, "anna")
    response = client.get(f"/console/relatives/{relative_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "arabisk" in page and "modtager sms" in page
    # The call: the route it took and who answered it.
    assert "Opkald fra den pårørende" in page and "Besvaret af Dalia Prøve" in page
    assert "Ringede til: Anna Prøve, Dalia Prøve" in page and "185 s" in page
    # Texts both ways, their words escaped.
    assert "Hvornår kommer &lt;b&gt;hjemmeplejen&lt;/b&gt;?" in page and "<b>hjemmeplejen" not in page
    assert "Sms til den pårørende" in page and "skabelon: received" in page
    # The callback and the note on it, who wrote it.
    assert re.search(r"Tilbagekald PL-\d{4}-\d{4}", page)
    assert "Ring efter kl. 9, spørg efter datteren" in page and "af Bo Prøve" in page
    # The voicemail (the demo has no sound), never Twilio's URL.
    assert "Talebesked" in page and "Ingen optagelse i demoen." in page
    assert "twilio.com" not in page and RECORDING_SID not in page
    order = [page.index(s) for s in ("Note på", "Tilbagekald PL-", "Sms fra", "Talebesked", "Opkald fra")]
    assert order == sorted(order)  # newest first
    (row,) = [r for r in audit_rows(staffed) if r.action == "viewed"]
    assert (row.actor, row.relative_id, row.subject) == ("anna", relative_id, "timeline")
    assert RELATIVE not in str(row.detail)
    client.get(f"/console/relatives/{relative_id}")
    assert len([r for r in audit_rows(staffed) if r.action == "viewed"]) == 2  # every view


def test_an_advisor_sees_the_number_masked_unless_the_relative_is_theirs(staffed: Flask) -> None:
    relative_id = seed(staffed)
    anna = signed_in(staffed, "anna")
    carl = signed_in(staffed, "carl")
    path = f"/console/relatives/{relative_id}"
    masked = anna.get(path).get_data(as_text=True)
    assert "+45 67 12 ** **" in masked and "67 12 34 56" not in masked and RELATIVE not in masked
    assert "Nummeret vises helt for den pårørendes kontaktperson" in masked
    assert "+45 67 12 34 56" in carl.get(path).get_data(as_text=True)  # a manager: always
    runtime = staffed.extensions["hotline"]
    with runtime.sessions.begin() as session:  # an open callback of the relative's, assigned to anna
        callback = session.scalars(select(CallbackRequest)).one()
        callback.assigned_advisor_id = "anna"
    assert "+45 67 12 34 56" in anna.get(path).get_data(as_text=True)
    with runtime.sessions.begin() as session:
        session.scalars(select(CallbackRequest)).one().assigned_advisor_id = "bo"
        session.scalars(select(Relative)).one().contact_person_id = "anna"  # anna is the contact person
    assert "+45 67 12 34 56" in anna.get(path).get_data(as_text=True)
    details = [r.detail for r in audit_rows(staffed) if r.action == "viewed"]
    assert details == ["number masked", "number shown", "number shown", "number shown"]


def test_the_number_rule_in_the_service(staffed: Flask) -> None:
    relative_id = seed(staffed)
    with staffed.extensions["hotline"].sessions() as session:
        relative = session.get(Relative, relative_id)
        assert relative is not None
        assert timelines.number_visible(session, relative, Role.ADMIN, None)
        assert timelines.number_visible(session, relative, Role.MANAGER, None)
        assert not timelines.number_visible(session, relative, Role.ADVISOR, "anna")
        assert not timelines.number_visible(session, relative, Role.ADVISOR, None)


def test_the_contact_person_is_set_and_changed_here_and_audited(staffed: Flask) -> None:
    relative_id = seed(staffed)
    client = signed_in(staffed, "anna")
    path = f"/console/relatives/{relative_id}"
    token = csrf_token(client, path)
    assert '<option value="" selected>Ingen</option>' in client.get(path).get_data(as_text=True)
    response = client.post(f"{path}/contact", data={"advisor": "dalia", "csrf_token": token})
    assert (response.status_code, response.headers["Location"]) == (302, f"{path}?saved=1")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert (
        "Kontaktpersonen er gemt." in page and '<option value="dalia" selected>Dalia Prøve</option>' in page
    )
    client.post(f"{path}/contact", data={"advisor": "bo", "csrf_token": token})
    client.post(f"{path}/contact", data={"advisor": "bo", "csrf_token": token})  # no change: no row
    refused = client.post(f"{path}/contact", data={"advisor": "nobody", "csrf_token": token})
    assert refused.headers["Location"] == f"{path}?refused=1"
    assert client.post(f"{path}/contact", data={"advisor": "anna"}).status_code == 400  # no CSRF token
    client.post(f"{path}/contact", data={"advisor": "", "csrf_token": token})
    with staffed.extensions["hotline"].sessions() as session:
        relative = session.get(Relative, relative_id)
        assert relative is not None and relative.contact_person_id is None
    changes = [
        (r.actor, r.relative_id, r.subject, r.detail) for r in audit_rows(staffed) if r.action == "changed"
    ]
    assert changes == [
        ("anna", relative_id, "contact_person", "- -> dalia"),
        ("anna", relative_id, "contact_person", "dalia -> bo"),
        ("anna", relative_id, "contact_person", "bo -> -"),
    ]


def test_the_contact_person_then_takes_the_relatives_voicemail(staffed: Flask) -> None:
    """What the contact person is for: the queue assigns the relative's next callback to them."""
    relative_id = seed(staffed)
    with staffed.extensions["hotline"].sessions.begin() as session:
        relative = session.get(Relative, relative_id)
        assert relative is not None
        timelines.set_contact_person(session, relative, "dalia")
        assert relatives.contact_person(relative) == "dalia"
        with pytest.raises(timelines.ContactPersonRefused):
            timelines.set_contact_person(session, relative, "nobody")


def test_the_opt_out_is_shown(staffed: Flask) -> None:
    relative_id = seed(staffed)
    with staffed.extensions["hotline"].sessions.begin() as session:
        opt_outs.opt_out(session, RELATIVE, source="keyword", now=utcnow())
    page = signed_in(staffed, "anna").get(f"/console/relatives/{relative_id}").get_data(as_text=True)
    assert "afmeldt (STOP) siden" in page


def test_a_removed_or_unknown_relative_has_no_timeline(staffed: Flask) -> None:
    relative_id = seed(staffed)
    with staffed.extensions["hotline"].sessions.begin() as session:
        relative = session.get(Relative, relative_id)
        assert relative is not None
        relative.phone_number = PREFIX + "0" * 24  # past retention: pseudonymised
    client = signed_in(staffed, "carl")
    assert client.get(f"/console/relatives/{relative_id}").status_code == 404
    assert client.get("/console/relatives/999999").status_code == 404
    assert not [r for r in audit_rows(staffed) if r.action == "viewed"]


def test_the_timeline_and_search_need_a_login(staffed: Flask) -> None:
    relative_id = seed(staffed)
    client = staffed.test_client()
    for path in (f"/console/relatives/{relative_id}", "/console/relatives", "/console/recordings/1"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/console/login")


def test_in_the_demo_a_voicemail_says_there_is_no_recording(staffed: Flask) -> None:
    seed(staffed)
    client = signed_in(staffed, "anna")
    with staffed.extensions["hotline"].sessions() as session:
        recording_id = session.scalars(select(Recording.id)).one()
    response = client.get(f"/console/recordings/{recording_id}")
    assert response.status_code == 404 and "Location" not in response.headers
    page = response.get_data(as_text=True)
    assert "Ingen optagelse i demoen." in page and "twilio.com" not in page


@pytest.fixture
def live_staffed(live: Flask) -> Flask:
    import_roster(live, ALWAYS_ON_CALL)
    add_staff(live, "anna")
    return live


def test_a_voicemail_is_streamed_by_the_hotline_never_a_redirect_to_twilio(
    live_staffed: Flask, fake: FakeTwilio
) -> None:
    relative_id = seed(live_staffed)
    fake.recordings[RECORDING_SID] = SOUND
    client = signed_in(live_staffed, "anna")
    page = client.get(f"/console/relatives/{relative_id}").get_data(as_text=True)
    found = re.search(r'<audio controls preload="none" src="(/console/recordings/\d+)"', page)
    assert found, page
    assert "twilio.com" not in page and fake.url not in page
    response = client.get(found.group(1))
    assert response.status_code == 200 and "Location" not in response.headers
    assert response.mimetype == "audio/mpeg" and response.get_data() == SOUND
    assert response.headers["Cache-Control"] == "no-store"
    assert "media-src 'self'" in response.headers["Content-Security-Policy"]
    api, storage = [r for r in fake.requests if RECORDING_SID in r.path]
    assert api.path.endswith(f"/Accounts/AC{'b' * 32}/Recordings/{RECORDING_SID}.mp3")
    assert api.authorization.startswith("Basic ")  # the account's credentials, on the server's side
    assert storage.path == f"/storage/{RECORDING_SID}.mp3"
    (row,) = [r for r in audit_rows(live_staffed) if r.subject == "recording"]
    assert (row.action, row.relative_id, row.detail) == ("viewed", relative_id, RECORDING_SID)


def test_a_voicemail_twilio_no_longer_has_is_a_plain_404(live_staffed: Flask, fake: FakeTwilio) -> None:
    seed(live_staffed)
    client = signed_in(live_staffed, "anna")
    with live_staffed.extensions["hotline"].sessions() as session:
        recording_id = session.scalars(select(Recording.id)).one()
    response = client.get(f"/console/recordings/{recording_id}")
    assert response.status_code == 404 and "Location" not in response.headers
    assert "Optagelsen findes ikke længere hos Twilio." in response.get_data(as_text=True)
    assert not [r for r in audit_rows(live_staffed) if r.subject == "recording"]


def test_twilio_out_of_order_is_a_503_and_nothing_is_streamed(live_staffed: Flask, fake: FakeTwilio) -> None:
    seed(live_staffed)
    fake.recordings[RECORDING_SID] = SOUND
    fake.script.append(error(500, 20500, "internal"))
    client = signed_in(live_staffed, "anna")
    with live_staffed.extensions["hotline"].sessions() as session:
        recording_id = session.scalars(select(Recording.id)).one()
    response = client.get(f"/console/recordings/{recording_id}")
    assert response.status_code == 503 and "Location" not in response.headers
    assert "Optagelsen kan ikke hentes fra Twilio lige nu." in response.get_data(as_text=True)
    assert client.get(f"/console/recordings/{recording_id}").get_data() == SOUND  # the next try works


def test_a_purged_voicemail_cannot_be_played(live_staffed: Flask, fake: FakeTwilio) -> None:
    relative_id = seed(live_staffed)
    fake.recordings[RECORDING_SID] = SOUND
    with live_staffed.extensions["hotline"].sessions.begin() as session:
        recording = session.scalars(select(Recording)).one()
        recording.recording_url = None
        recording_id = recording.id
    client = signed_in(live_staffed, "anna")
    assert client.get(f"/console/recordings/{recording_id}").status_code == 404
    page = client.get(f"/console/relatives/{relative_id}").get_data(as_text=True)
    assert "Optagelsen er slettet efter opbevaringstiden." in page and "<audio" not in page
    assert not [r for r in fake.requests if RECORDING_SID in r.path]


def test_a_long_timeline_shows_the_newest_first_and_the_rest_on_asking(staffed: Flask) -> None:
    """A relative with 70 texts: the first page holds the newest 50 events and a link to the older ones; that
    page holds all of them (up to the per-kind limit), oldest last."""
    runtime = staffed.extensions["hotline"]
    now = utcnow()
    with runtime.sessions.begin() as session:
        relative, _ = relatives.find_or_create(session, OTHER)
        for n in range(70):
            at = now - timedelta(hours=70 - n)
            session.add(
                Message(
                    message_sid=f"SM{n:032d}",
                    direction="inbound",
                    from_number=OTHER,
                    to_number="+4568000000",
                    body=f"besked nummer {n}",
                    status="received",
                    relative_id=relative.id,
                    created_at=at,
                    updated_at=at,
                )
            )
        relative_id = relative.id
    carl = signed_in(staffed, "carl")
    first = carl.get(f"/console/relatives/{relative_id}").get_data(as_text=True)
    shown = [int(n) for n in re.findall(r"besked nummer (\d+)", first)]
    assert shown == list(range(69, 19, -1)), "the newest 50, newest first"
    assert 'id="older"' in first and "?older=1" in first
    older = carl.get(f"/console/relatives/{relative_id}?older=1").get_data(as_text=True)
    assert [int(n) for n in re.findall(r"besked nummer (\d+)", older)] == list(range(69, -1, -1))
    assert 'id="older"' not in older


def test_a_short_timeline_has_no_link_to_older_events(staffed: Flask) -> None:
    relative_id = seed(staffed)
    page = signed_in(staffed, "carl").get(f"/console/relatives/{relative_id}").get_data(as_text=True)
    assert "Hvornår kommer" in page and 'id="older"' not in page

"""The console's texts: the inbox (unanswered first, the wait against the receipt's promise), a thread (masked
number, bodies, delivery, audited), a reply checked and written to the outbox uncapped but within the guard and
the opt-out registry, quick replies in the relative's language, and a thread turned into a callback."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from hotline.db.models import AuditEntry, CallbackRequest, Message, OutboxText, Relative
from hotline.jobs import outbox as send_loop
from tests.helpers import (
    ALWAYS_ON_CALL,
    RELATIVE,
    AppFactory,
    TwilioSigner,
    add_staff,
    console_login,
    csrf_token,
    import_roster,
    new_sid,
    signer,
    utc,
)

NOW = utc(2026, 11, 3, 13, 0)  # 14:00 in Copenhagen, anna on call: a receipt promises "i dag inden kl. 18"
OTHER = "+4567100002"


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    """The tests' clock, stopped at NOW (signing in included: a session cookie from the future is no session)."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def staffed(clock: time_machine.Coordinates, rostered: Flask) -> Flask:
    add_staff(rostered, "anna")
    return rostered


@pytest.fixture
def anna(staffed: Flask) -> FlaskClient:
    client = staffed.test_client()
    assert console_login(client, "anna").status_code == 302
    return client


def text_in(twilio: TwilioSigner, body: str, from_: str = RELATIVE) -> str:
    sid = new_sid("SM")
    params = {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": from_, "To": "+4568000000"}
    params.update({"Body": body, "NumMedia": "0"})
    assert twilio.post("/twilio/sms", params).status_code == 200
    return sid


def shown(response: TestResponse) -> str:
    """The page as a reader sees it (entities decoded)."""
    return html.unescape(response.get_data(as_text=True))


def relative_id(app: Flask, number: str = RELATIVE) -> int:
    with app.extensions["hotline"].sessions() as session:
        return session.scalars(select(Relative.id).where(Relative.phone_number == number)).one()


def replies(app: Flask) -> list[OutboxText]:
    with app.extensions["hotline"].sessions() as session:
        return list(session.scalars(select(OutboxText).where(OutboxText.purpose == "advisor_reply")))


def reply(client: FlaskClient, rid: int, body: str, draft: str = "d1", **extra: str) -> object:
    token = csrf_token(client, f"/console/texts/{rid}")
    return client.post(
        f"/console/texts/{rid}/reply", data={"body": body, "draft": draft, "csrf_token": token, **extra}
    )


def test_the_inbox_lists_unanswered_threads_first_with_the_wait_against_the_promise(
    staffed: Flask, anna: FlaskClient, twilio: TwilioSigner
) -> None:
    text_in(twilio, "Hvornår kommer hjemmeplejen?", OTHER)
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        text_in(twilio, "Min mor er faldet, hvad gør jeg?")
    with time_machine.travel(NOW + timedelta(hours=6), tick=False):  # 20:00 in Copenhagen
        page = shown(anna.get("/console/texts"))
    assert "2 tråde uden svar" in page
    assert "Lovet svar kl. 18:00 · 2 t 0 min over tiden" in page
    assert "Lovet svar kl. 19:00 · 1 t 0 min over tiden" in page  # 14:05 + 4 hours, up to the whole hour
    assert "har ventet 6 t 0 min" in page and "har ventet 5 t 55 min" in page
    # The first promise first; masked numbers, no full number and no body in the list.
    assert page.index("+45 67 10 ** **") < page.index("+45 67 12 ** **")
    assert RELATIVE not in page and "+45 67 12 34 56" not in page and "faldet" not in page


def test_a_thread_shows_the_texts_and_their_delivery_and_every_view_is_audited(
    staffed: Flask, anna: FlaskClient, twilio: TwilioSigner
) -> None:
    text_in(twilio, "Kan I hjælpe med aflastning?")
    rid = relative_id(staffed)
    page = shown(anna.get(f"/console/texts/{rid}"))
    assert "Sms'er med +45 67 12 ** **" in page and RELATIVE not in page
    assert "Kan I hjælpe med aflastning?" in page
    assert "Tak for din besked til Pårørendelinjen. En rådgiver svarer dig i dag inden kl. 18." in page
    assert "Automatisk" in page and "Venter på at blive sendt" in page
    assert "Lovet svar kl. 18:00 · 4 t 0 min tilbage" in page
    anna.get(f"/console/texts/{rid}")
    with staffed.extensions["hotline"].sessions() as session:
        views = session.scalars(select(AuditEntry).where(AuditEntry.action == "viewed")).all()
    assert [(v.actor, v.relative_id, v.subject) for v in views] == [("anna", rid, "texts")] * 2


def test_a_reply_goes_out_through_the_outbox_and_is_tracked_to_delivered(
    staffed: Flask, anna: FlaskClient, twilio: TwilioSigner
) -> None:
    text_in(twilio, "Hvornår kommer hjemmeplejen?")
    rid = relative_id(staffed)
    response = reply(anna, rid, "Hej. Hjemmeplejen kommer kl. 16. Venlig hilsen Anna")
    assert response.status_code == 303  # type: ignore[attr-defined]
    (row,) = replies(staffed)
    assert (row.capped, row.state, row.to_number, row.language) == (False, "pending", RELATIVE, "da")
    assert "0 sms-tråde uden svar" in shown(anna.get("/console/"))
    page = shown(anna.get(f"/console/texts/{rid}?done=sent"))
    assert "Svaret er lagt i udbakken og sendes nu." in page and "Rådgiver" in page
    send_loop.send_due(staffed.extensions["hotline"], NOW)
    with staffed.extensions["hotline"].sessions() as session:
        sid = session.scalars(
            select(Message.message_sid).where(
                Message.body == "Hej. Hjemmeplejen kommer kl. 16. Venlig hilsen Anna"
            )
        ).one()
    status = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": "AC" + "0" * 32}
    assert twilio.post("/twilio/sms/status", status).status_code == 204
    page = shown(anna.get(f"/console/texts/{rid}"))
    assert re.search(r"Hjemmeplejen kommer kl\. 16\..*?Leveret", page, re.S)
    with staffed.extensions["hotline"].sessions() as session:
        changes = session.scalars(select(AuditEntry).where(AuditEntry.action == "changed")).all()
    assert [(c.relative_id, c.detail) for c in changes] == [(rid, "advisor_reply")]


def test_the_same_draft_sent_twice_is_written_once(
    staffed: Flask, anna: FlaskClient, twilio: TwilioSigner
) -> None:
    text_in(twilio, "Hej")
    rid = relative_id(staffed)
    reply(anna, rid, "Hej igen", draft="same")
    reply(anna, rid, "Hej igen", draft="same")
    reply(anna, rid, "Og en til", draft="other")
    assert [r.body for r in replies(staffed)] == ["Hej igen", "Og en til"]


def test_the_caps_on_automatic_texts_do_not_refuse_an_advisor(
    clock: time_machine.Coordinates, make_app: AppFactory
) -> None:
    app = make_app({"sms": {"auto_replies_per_number_per_hour": 1}})
    import_roster(app, ALWAYS_ON_CALL)
    add_staff(app, "anna")
    text_in(signer(app), "Første spørgsmål")
    text_in(signer(app), "Andet spørgsmål")
    client = app.test_client()
    console_login(client, "anna")
    rid = relative_id(app)
    page = shown(client.get(f"/console/texts/{rid}"))
    assert "Ikke sendt (grænsen for automatiske sms'er)" in page  # the second receipt
    assert reply(client, rid, "Vi ringer i morgen.").status_code == 303  # type: ignore[attr-defined]
    assert [r.state for r in replies(app)] == ["pending"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Hej", "1 sms · GSM-7 · 3 tegn"),
        ("Æbler og øl på årets første dag", "1 sms · GSM-7 · 31 tegn"),
        ("x" * 161, "2 sms'er · GSM-7 · 161 tegn"),
        ("Det er ’godt’", "1 sms · UCS-2 · 13 tegn"),
        ("Привіт " * 10, "1 sms · UCS-2 · 69 tegn"),
    ],
)
def test_the_check_shows_segments_and_encoding_before_sending(
    staffed: Flask, anna: FlaskClient, twilio: TwilioSigner, body: str, expected: str
) -> None:
    text_in(twilio, "Hej")
    rid = relative_id(staffed)
    token = csrf_token(anna, f"/console/texts/{rid}")
    fragment = shown(
        anna.post(
            f"/console/texts/{rid}/check",
            data={"body": body},
            headers={"HX-Request": "true", "X-CSRFToken": token},
        )
    )
    assert expected in fragment
    assert ("Tegnet »’« gør" in fragment) == ("’" in body)


def test_a_number_that_opted_out_gets_no_reply(
    staffed: Flask, anna: FlaskClient, twilio: TwilioSigner
) -> None:
    text_in(twilio, "Hvad gør jeg?")
    text_in(twilio, "STOP")
    rid = relative_id(staffed)
    assert "har afmeldt sms" in shown(anna.get(f"/console/texts/{rid}"))
    response = reply(anna, rid, "Vi ringer i stedet.")
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "Ring i stedet" in shown(response)  # type: ignore[arg-type]
    assert replies(staffed) == []


def test_the_guard_refuses_a_reply_and_a_callback_to_a_foreign_number(
    staffed: Flask, anna: FlaskClient, twilio: TwilioSigner
) -> None:
    text_in(twilio, "Hello?", "+4930123456")
    rid = relative_id(staffed, "+4930123456")
    response = reply(anna, rid, "Hi")
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "er i et land, som linjen ikke må ringe til (DE)" in shown(response)  # type: ignore[arg-type]
    assert replies(staffed) == []
    token = csrf_token(anna, f"/console/texts/{rid}")
    response = anna.post(f"/console/texts/{rid}/callback", data={"csrf_token": token})
    assert response.headers["Location"].endswith("done=callback_refused")
    assert "må ikke ringes op" in shown(anna.get(response.headers["Location"]))
    with staffed.extensions["hotline"].sessions() as session:
        assert session.scalars(select(CallbackRequest)).all() == []


def test_quick_replies_come_in_the_relatives_language_with_the_danish_beside(
    staffed: Flask, anna: FlaskClient, twilio: TwilioSigner
) -> None:
    text_in(twilio, "مرحبا")
    rid = relative_id(staffed)
    with staffed.extensions["hotline"].sessions.begin() as session:
        session.get_one(Relative, rid).language = "ar"
    page = shown(anna.get(f"/console/texts/{rid}?quick=quick_call_us"))
    assert "Dit svar (på arabisk)" in page
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S)
    assert textarea and "شكرًا على رسالتك" in textarea.group(1) and "+45 68 00 00 00" in textarea.group(1)
    assert "På dansk: Pårørendelinjen: Tak for din besked. Det er lettere at tale om i telefonen." in page
    assert "UCS-2" in page
    page = shown(anna.get(f"/console/texts/{rid}?quick=not_a_template"))
    assert re.search(r"<textarea[^>]*></textarea>", page)


def test_a_thread_turned_into_a_callback_is_answered_by_the_queue(
    clock: time_machine.Coordinates, staffed: Flask, anna: FlaskClient, twilio: TwilioSigner
) -> None:
    text_in(twilio, "Kan I ringe mig op?")
    rid = relative_id(staffed)
    token = csrf_token(anna, f"/console/texts/{rid}")
    response = anna.post(f"/console/texts/{rid}/callback", data={"csrf_token": token})
    assert response.headers["Location"].endswith("done=callback_new")
    page = shown(anna.get(response.headers["Location"]))
    assert "Tråden er nu et tilbagekald i køen (sag PL-2026-0001)" in page
    with staffed.extensions["hotline"].sessions() as session:
        (callback,) = session.scalars(select(CallbackRequest)).all()
        assert (callback.relative_id, callback.state, callback.window_key) == (rid, "scheduled", "asap")
        purposes = session.scalars(
            select(OutboxText.purpose).where(OutboxText.callback_id == callback.id)
        ).all()
        assert purposes == ["callback_registered"]
    assert "0 sms-tråde uden svar" in shown(anna.get("/console/"))
    clock.shift(timedelta(minutes=1))
    text_in(twilio, "Og en ting mere")  # a new text waits again, and joins the open callback when handed over
    assert "1 sms-tråd uden svar" in shown(anna.get("/console/"))
    response = anna.post(f"/console/texts/{rid}/callback", data={"csrf_token": token})
    assert response.headers["Location"].endswith("done=callback_joined")
    assert "0 sms-tråde uden svar" in shown(anna.get("/console/"))


def test_an_unknown_thread_is_not_found(anna: FlaskClient) -> None:
    assert anna.get("/console/texts/999").status_code == 404
    token = csrf_token(anna, "/console/texts")
    assert anna.post("/console/texts/999/reply", data={"csrf_token": token, "body": "x"}).status_code == 404


def test_a_reply_without_the_csrf_token_is_refused(
    staffed: Flask, anna: FlaskClient, twilio: TwilioSigner
) -> None:
    text_in(twilio, "Hej")
    rid = relative_id(staffed)
    assert anna.post(f"/console/texts/{rid}/reply", data={"body": "Hej", "draft": "x"}).status_code == 400
    assert replies(staffed) == []


def test_the_inbox_in_english(anna: FlaskClient, twilio: TwilioSigner) -> None:
    text_in(twilio, "Hello")
    token = csrf_token(anna, "/console/texts")
    anna.post("/console/language", data={"csrf_token": token, "language": "en", "next": "/console/texts"})
    page = shown(anna.get("/console/texts"))
    assert "1 thread unanswered" in page and "Answer promised" in page

"""Incoming texts through the real app: one thread per relative, keywords in every spelling, the automatic reply
written to the outbox in the same transaction, its caps, and bodies kept exactly as sent."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from hotline.config.checks import sms_template_checks
from hotline.config.settings import load_settings
from hotline.db.models import CallbackRequest, Message, OutboxText, Relative, SmsOptOut
from hotline.jobs import backlog
from hotline.services import inbox, relatives
from routing.numbers import display_number
from tests.helpers import RELATIVE, AppFactory, HotlineRunner, TwilioSigner, import_roster, new_sid, utc

OTHER = "+4567200002"


def sms_params(body: str, from_: str = RELATIVE, sid: str | None = None) -> dict[str, str]:
    sid = sid or new_sid("SM")
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": from_,
        "To": "+4568000000",
        "Body": body,
        "NumMedia": "0",
    }


def text(twilio: TwilioSigner, body: str, from_: str = RELATIVE, sid: str | None = None) -> str:
    """Post an incoming text as Twilio would; returns the response body (TwiML)."""
    response = twilio.post("/twilio/sms", sms_params(body, from_, sid))
    assert response.status_code == 200 and response.mimetype == "text/xml"
    return response.get_data(as_text=True)


def outbox_rows(app: Flask) -> list[OutboxText]:
    with app.extensions["hotline"].sessions() as session:
        return list(session.scalars(select(OutboxText).order_by(OutboxText.id)))


def inbound(app: Flask) -> list[Message]:
    with app.extensions["hotline"].sessions() as session:
        return list(
            session.scalars(select(Message).where(Message.direction == "inbound").order_by(Message.id))
        )


def opted_out(app: Flask) -> list[str]:
    with app.extensions["hotline"].sessions() as session:
        return list(session.scalars(select(SmsOptOut.phone_number)))


@pytest.mark.parametrize(
    ("body", "purpose", "language"),
    [
        ("STOP", "opt_out_confirmed", "da"),
        ("stop", "opt_out_confirmed", "da"),
        ("  Stop!  ", "opt_out_confirmed", "da"),
        ("ＳＴＯＰ", "opt_out_confirmed", "da"),
        ("Stopp", "opt_out_confirmed", "da"),
        ("afmeld.", "opt_out_confirmed", "da"),
        ("UNSUBSCRIBE", "opt_out_confirmed", "en"),
        ("START", "opt_in_confirmed", "da"),
        ("HJÆLP", "help", "da"),
        ("hjaelp", "help", "da"),
        ("Hjalp?", "help", "da"),
        ("help", "help", "en"),
        ("HELP 🙏", "help", "en"),
        ("status", "status_none", "da"),
        ("RING", "callback_registered", "da"),
        ("Call!", "callback_registered", "en"),
        ("tilbud", "info_offers", "da"),
        ("OFFERS", "info_offers", "en"),
        ("HÅNDBOG", "info_handbook", "da"),
        ("haandbog", "info_handbook", "da"),
        ("Netværk", "info_network", "da"),
        ("netvaerk", "info_network", "da"),
        ("«mentor»", "info_mentor", "da"),
        ("stop please call me", "received", "da"),
        ("STOP STOP", "received", "da"),
        ("Stop1", "received", "da"),
        ("Kan I ringe?", "received", "da"),
    ],
)
def test_keyword_spellings_and_their_replies(
    app: Flask, twilio: TwilioSigner, body: str, purpose: str, language: str
) -> None:
    text(twilio, body)
    (reply,) = outbox_rows(app)
    assert (reply.purpose, reply.language, reply.to_number) == (purpose, language, RELATIVE)
    assert reply.auto_reply and reply.state == "pending"
    assert reply.body and "Pårørendelinjen" in reply.body
    (message,) = inbound(app)
    assert reply.in_reply_to_id == message.id and message.handled_at is not None
    assert opted_out(app) == ([RELATIVE] if purpose == "opt_out_confirmed" else [])


def test_each_text_joins_the_relatives_one_thread(app: Flask, twilio: TwilioSigner) -> None:
    for body in ("Hej", "Er der nogen?"):
        text(twilio, body)
    text(twilio, "Hello", from_=OTHER)
    with app.extensions["hotline"].sessions() as session:
        mine = relatives.find(session, RELATIVE)
        theirs = relatives.find(session, OTHER)
        assert mine is not None and theirs is not None
    threads = {m.body: m.relative_id for m in inbound(app)}
    assert threads == {"Hej": mine.id, "Er der nogen?": mine.id, "Hello": theirs.id}
    assert {r.relative_id for r in outbox_rows(app) if r.to_number == RELATIVE} == {mine.id}


@pytest.mark.parametrize(
    "body",
    [
        "",
        "x" * 1600,
        "😀🙏🏽❤️‍🔥" * 80,
        "مرحبا، أحتاج إلى مساعدة بخصوص والدي",
        "\u202eerom daer\u202c og ‏עברית",
        "<script>alert('x')</script> &amp; <b>fed</b> {service_name} %s",
    ],
    ids=["empty", "1600-chars", "emoji", "arabic-rtl", "bidi-controls", "markup"],
)
def test_bodies_are_stored_faithfully_and_never_echoed(app: Flask, twilio: TwilioSigner, body: str) -> None:
    answer = text(twilio, body)
    (message,) = inbound(app)
    assert message.body == body
    assert body == "" or body not in answer  # Twilio gets empty TwiML: the reply goes through the outbox
    (reply,) = outbox_rows(app)
    assert reply.purpose == "received" and reply.body is not None
    assert not body or body[:20] not in reply.body  # the relative's words are never sent back


def test_the_same_message_sid_twice_is_handled_once(app: Flask, twilio: TwilioSigner) -> None:
    sid = new_sid("SM")
    for _ in range(3):
        text(twilio, "RING", sid=sid)
    assert len(inbound(app)) == 1
    assert [r.purpose for r in outbox_rows(app)] == ["callback_registered"]
    with app.extensions["hotline"].sessions() as session:
        assert len(session.scalars(select(CallbackRequest)).all()) == 1


def test_stop_is_confirmed_once_and_only_help_and_start_are_answered_after_it(
    app: Flask, twilio: TwilioSigner
) -> None:
    for body in ("STOP", "stop", "Hvornår ringer I?", "RING", "HELP", "START", "Hvornår ringer I?"):
        text(twilio, body)
    replies = [(r.purpose, r.state) for r in outbox_rows(app)]
    assert replies == [
        ("opt_out_confirmed", "pending"),
        ("callback_registered", "cancelled"),  # the callback is registered; its text is not sent
        ("help", "pending"),
        ("opt_in_confirmed", "pending"),
        ("received", "pending"),
    ]
    assert len(inbound(app)) == 7  # every text is kept for the advisors
    assert opted_out(app) == []


def test_replies_use_the_remembered_language(app: Flask, twilio: TwilioSigner) -> None:
    with app.extensions["hotline"].sessions.begin() as session:
        relative, _ = relatives.find_or_create(session, RELATIVE)
        relative.language = "ar"
    text(twilio, "HELP")  # an English keyword does not override what we know
    text(twilio, "HELP", from_=OTHER)  # ... but answers an unknown number in English
    text(twilio, "hjælp", from_="+4567200003")
    languages = [(r.to_number, r.language) for r in outbox_rows(app)]
    assert languages == [(RELATIVE, "ar"), (OTHER, "en"), ("+4567200003", "da")]
    arabic = outbox_rows(app)[0].body or ""
    assert any("\u0600" <= ch <= "\u06ff" for ch in arabic)


@pytest.mark.parametrize("sender", ["+4590123456", "+4930123456"], ids=["premium-rate", "foreign"])
def test_ring_from_a_number_the_guard_refuses_promises_nothing(
    app: Flask, twilio: TwilioSigner, sender: str
) -> None:
    """The guard sits before the promise, not only at the dial: no callback is queued for a number the hotline
    may not call, and no reply goes to it; the text itself stays for the advisors."""
    text(twilio, "RING", from_=sender)
    with app.extensions["hotline"].sessions() as session:
        assert session.scalars(select(CallbackRequest)).all() == []
    assert outbox_rows(app) == []
    (message,) = inbound(app)
    assert message.handled_at is not None and message.body == "RING"


def test_status_and_ring_answer_from_the_open_callback(app: Flask, twilio: TwilioSigner) -> None:
    text(twilio, "STATUS")
    text(twilio, "RING")
    text(twilio, "RING")  # already ordered: told when, no second callback
    text(twilio, "status")
    rows = outbox_rows(app)
    assert [r.purpose for r in rows] == ["status_none", "callback_registered", "status_open", "status_open"]
    assert all(r.body and "+45 68 00 00 00" in r.body for r in rows[1:])
    with app.extensions["hotline"].sessions() as session:
        (callback,) = session.scalars(select(CallbackRequest)).all()
        relative = session.get(Relative, callback.relative_id)
    assert relative is not None and relative.phone_number == RELATIVE
    assert (callback.state, callback.window_key, callback.priority) == ("scheduled", "asap", "question")
    assert rows[1].callback_id == callback.id and rows[1].auto_reply


def test_information_texts_carry_the_configured_links(make_app: AppFactory) -> None:
    app = make_app(
        {"sms": {"info": {"offers_url": "https://example.aarhus.dk/t", "mentor_phone": "+4568001122"}}}
    )
    twilio = TwilioSigner(app.test_client(), app.extensions["hotline"].signing_secret)
    text(twilio, "TILBUD")
    text(twilio, "mentor", from_=OTHER)
    offers, mentor = (r.body or "" for r in outbox_rows(app))
    assert offers.endswith("https://example.aarhus.dk/t")
    assert "+45 68 00 11 22" in mentor and "https://www.aarhus.dk/paaroerende/mentor" in mentor


def test_a_burst_from_one_number_gets_at_most_the_configured_replies(make_app: AppFactory) -> None:
    app = make_app({"sms": {"auto_replies_per_number_per_hour": 3, "auto_replies_total_per_hour": 100}})
    twilio = TwilioSigner(app.test_client(), app.extensions["hotline"].signing_secret)
    for n in range(6):
        text(twilio, f"besked {n}")
    text(twilio, "besked", from_=OTHER)
    rows = outbox_rows(app)
    assert [r.to_number for r in rows if r.state == "pending"] == [RELATIVE] * 3 + [OTHER]
    # What the cap refused is kept for staff, with the cap that refused it.
    assert [(r.to_number, r.failure_code) for r in rows if r.state == "refused"] == [
        (RELATIVE, "number_limit")
    ] * 3
    assert len(inbound(app)) == 7  # capped replies, never lost texts


def test_the_global_cap_stops_sms_pumping_across_numbers(make_app: AppFactory) -> None:
    app = make_app({"sms": {"auto_replies_per_number_per_hour": 5, "auto_replies_total_per_hour": 4}})
    twilio = TwilioSigner(app.test_client(), app.extensions["hotline"].signing_secret)
    for n in range(8):
        text(twilio, "HELP", from_=f"+45672000{n:02d}")
    states = [(r.state, r.failure_code) for r in outbox_rows(app)]
    assert states == [("pending", None)] * 4 + [("refused", "global_limit")] * 4
    assert len(inbound(app)) == 8


def test_a_sender_that_is_not_a_phone_number_is_stored_but_not_answered(
    app: Flask, twilio: TwilioSigner
) -> None:
    text(twilio, "Din pakke er klar", from_="PostNord")
    (message,) = inbound(app)
    assert (message.body, message.relative_id, message.handled_at is not None) == (
        "Din pakke er klar",
        None,
        True,
    )
    assert outbox_rows(app) == []


def test_a_text_whose_handling_fails_is_kept_and_handled_by_the_backlog(
    app: Flask, twilio: TwilioSigner, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_handle = inbox.handle

    def broken(*args: object, **kwargs: object) -> inbox.Handled:
        raise RuntimeError("template broken")

    monkeypatch.setattr(inbox, "handle", broken)
    text(twilio, "HELP")
    (message,) = inbound(app)
    assert message.handled_at is None and outbox_rows(app) == []
    monkeypatch.setattr(inbox, "handle", real_handle)
    runtime = app.extensions["hotline"]
    now = utc(2026, 6, 10, 12)
    assert backlog.handle_backlog(runtime, now) == 1
    assert backlog.handle_backlog(runtime, now) == 0
    assert [r.purpose for r in outbox_rows(app)] == ["help"]


def test_texts_imported_from_the_spool_are_answered(app: Flask, tmp_path: Path) -> None:
    from hotline.services import spool

    runtime = app.extensions["hotline"]
    sid = new_sid("SM")
    spool.write(
        runtime.settings.instance_path, "messages", sid, {"MessageSid": sid, "From": RELATIVE, "Body": "RING"}
    )
    assert spool.import_spool(runtime.settings.instance_path, runtime.sessions) == 1
    assert backlog.handle_backlog(runtime, utc(2026, 6, 10, 12)) == 1
    assert [r.purpose for r in outbox_rows(app)] == ["callback_registered"]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2026, 6, 10, 8, 0), "i dag inden kl. 14"),  # 10:00 CEST, on shift: the response time, whole hour
        (utc(2026, 6, 10, 8, 10), "i dag inden kl. 15"),
        (utc(2026, 3, 28, 21, 45), "i morgen tidlig kl. 7"),  # 22:45, the night shift is off sick
        (utc(2026, 3, 29, 0, 30), "i dag kl. 7"),  # 01:30 CET on the March DST Sunday; opens 07:00 CEST
        (utc(2026, 10, 24, 23, 30), "i dag kl. 7"),  # 01:30 CEST on the October DST Sunday; opens 07:00 CET
        (utc(2026, 3, 28, 21, 0), "i nat inden kl. 23"),  # 22:00, the shift on now ends at 23
    ],
)
def test_the_acknowledgement_says_when_an_answer_comes_from_the_roster(
    app: Flask, now: datetime, expected: str
) -> None:
    import_roster(app)
    runtime = app.extensions["hotline"]
    with runtime.sessions() as session:
        assert inbox.answer_expected(session, runtime.settings, now, "da") == expected


def test_the_acknowledgement_without_a_roster_promises_the_response_time(app: Flask) -> None:
    runtime = app.extensions["hotline"]
    with runtime.sessions() as session:
        phrase = inbox.answer_expected(session, runtime.settings, utc(2026, 6, 10, 8, 0), "en")
    assert phrase == "today before 14:00"


def test_information_asked_for_in_a_call_is_queued_once(app: Flask) -> None:
    runtime = app.extensions["hotline"]
    now = utc(2026, 6, 10, 12)
    for _ in range(2):
        with runtime.sessions.begin() as session:
            assert inbox.queue_info_text(
                session, runtime.settings, RELATIVE, "handbook", "en", now, dedup_key="call:CA1:handbook"
            )
    with runtime.sessions.begin() as session:
        assert not inbox.queue_info_text(session, runtime.settings, RELATIVE, "x", "da", now, dedup_key="k")
    (row,) = outbox_rows(app)
    assert (row.purpose, row.language, row.auto_reply) == ("info_handbook", "en", False)
    assert row.body is not None and row.body.endswith("https://www.aarhus.dk/paaroerende/haandbog")
    assert display_number("+4568000000") == "+45 68 00 00 00"


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    """The app on a loopback port, as `hotline serve` would run it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_hotline_sms_texts_a_running_hotline_and_prints_the_reply(
    served: str, runner: HotlineRunner, app: Flask
) -> None:
    result = runner.invoke(["sms", "--from", "+45 67 12 34 56", "--url", served, "HJÆLP"])
    assert result.exit_code == 0, result.output
    assert "fra +45 67 12 ** **: HTTP 200" in result.output
    assert "svar (reply) [help, pending]: Pårørendelinjen er for dig, der er pårørende." in result.output
    (message,) = inbound(app)
    assert (message.from_number, message.body) == (RELATIVE, "HJÆLP")


def test_hotline_sms_finds_the_hotline_on_hotline_port(
    served: str, runner: HotlineRunner, app: Flask
) -> None:
    """Without --url, `hotline sms` texts the hotline where `hotline serve` listens: HOTLINE_PORT, as `hotline
    call` does (it used to try port 8000 whatever the port)."""
    port = served.rsplit(":", 1)[1]
    result = runner.invoke(["sms", "--from", RELATIVE, "HJÆLP"], env={"HOTLINE_PORT": port})
    assert result.exit_code == 0, result.output
    assert len(inbound(app)) == 1


def test_hotline_sms_says_how_to_start_a_hotline_that_is_not_running(
    runner: HotlineRunner, app: Flask
) -> None:
    result = runner.invoke(["sms", "--from", RELATIVE, "--url", "http://127.0.0.1:1", "hej"])
    assert result.exit_code == 1
    assert "cannot reach the hotline at http://127.0.0.1:1" in result.output
    assert "hotline serve" in result.output


@pytest.mark.parametrize(
    ("max_segments", "expected"),
    [
        (3, []),
        (2, ["ar.yaml", "pl.yaml", "tr.yaml", "uk.yaml"]),  # Danish, English and Somali stay within 2
        (1, ["ar.yaml", "da.yaml", "en.yaml", "pl.yaml", "so.yaml", "tr.yaml", "uk.yaml"]),
    ],
)
def test_hotline_check_warns_about_texts_past_the_segment_budget(
    settings_mapping: dict[str, Any], max_segments: int, expected: list[str]
) -> None:
    settings = load_settings(
        environ={"HOTLINE_DATABASE_URL": settings_mapping["HOTLINE_DATABASE_URL"]},
        overrides={"sms": {"max_segments": max_segments}},
        config_path=settings_mapping["config_path"],
    )
    problems, warnings = sms_template_checks(settings)
    assert problems == []
    files = sorted({w.split(":")[0].rsplit("/", 1)[-1] for w in warnings})
    assert files == expected
    assert all(f"the limit is {max_segments}" in w and "sms.max_segments" in w for w in warnings)


def test_ring_in_the_night_is_called_back_after_the_quiet_hours(app: Flask, twilio: TwilioSigner) -> None:
    """RING at 23:10 asks for a call but picks no time: the question is called back from 07:00 (quiet hours
    21:30-07:00), and the reply says so."""
    with time_machine.travel(utc(2026, 11, 23, 22, 10)):  # Monday 23:10 in Copenhagen
        text(twilio, "RING")
    with app.extensions["hotline"].sessions() as session:
        (callback,) = session.scalars(select(CallbackRequest)).all()
    assert callback.window_start == utc(2026, 11, 24, 6)  # 07:00 on Tuesday
    assert callback.due_at == utc(2026, 11, 24, 10)
    (reply,) = outbox_rows(app)
    assert reply.body is not None and "i morgen" in reply.body and "i nat" not in reply.body, reply.body

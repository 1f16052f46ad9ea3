"""The caps against SMS pumping and harassment (issue 9, item 2), through the real app with signed requests.

Every automatic text to a relative counts in one per-number and one global hourly cap, whatever caused it: a
receipt, an information text asked for on the phone, a callback's status text. A number keyed in on the phone
menu (a withheld caller types one in) gets only a few texts and callbacks a day. What a cap refuses is kept for
staff and logged with the number masked; the caller is never told a text or a call is coming when it is not.
"""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from sqlalchemy import select

from hotline.db.models import CallbackRefusal, CallbackRequest, OutboxText, utcnow
from hotline.runtime import Runtime
from hotline.services import callback_queue, outbox
from hotline.services.staff_texts import staff_text
from hotline.twilio.actions import Caller, carry_out
from ivr_flows.call_state import CallState
from ivr_flows.outcome import Action
from routing.callbacks import Event
from tests.helpers import (
    ALWAYS_ON_CALL,
    PHONES,
    RELATIVE,
    AppFactory,
    HotlineRunner,
    TwilioSigner,
    add_staff,
    console_login,
    dial_in,
    import_roster,
    new_sid,
    register_callback,
)

# Someone else's number, keyed in by a caller who withholds their own (reserve series).
STRANGER = "+4567000003"
STRANGER_DIGITS = "67000003"
# Danish, the info menu, the number keyed in and confirmed, then every topic in turn ("1" after each text: more).
ASK_EVERY_TEXT = ["1", "4", STRANGER_DIGITS, "1", "1", "1", "2", "1", "3", "1", "4", "", ""]
SENT = "Vi har sendt dig en sms"
NOT_SENT = "Vi kunne desværre ikke sende sms'en lige nu"


def _sms_params(body: str, from_: str) -> dict[str, str]:
    sid = new_sid("SM")
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": from_,
        "To": "+4568000000",
        "Body": body,
        "NumMedia": "0",
    }


def _texts(app: Flask, to: str | None = None) -> list[OutboxText]:
    with app.extensions["hotline"].sessions() as session:
        query = select(OutboxText).order_by(OutboxText.id)
        if to is not None:
            query = query.where(OutboxText.to_number == to)
        return list(session.scalars(query))


def _rows(app: Flask, model: type[CallbackRequest] | type[CallbackRefusal]) -> list[object]:
    with app.extensions["hotline"].sessions() as session:
        return list(session.scalars(select(model).order_by(model.id)))


def _rostered(make_app: AppFactory, config: dict[str, object] | None = None) -> Flask:
    app = make_app(config)
    import_roster(app, ALWAYS_ON_CALL)
    return app


def test_a_pumping_attempt_from_a_withheld_number_texts_the_stranger_only_a_few_times(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Five signed calls from a withheld number, each keying in the same stranger's number and asking for every
    information text: before the caps these sent 20 texts; now the stranger gets the day's allowance (3), each
    refusal is kept and logged without the number, and the caller hears that the text could not be sent."""
    app = _rostered(make_app)
    caplog.set_level(logging.INFO)
    outputs = [dial_in(app, ASK_EVERY_TEXT, caller="anonymous")[2] for _ in range(5)]

    rows = _texts(app, STRANGER)
    queued = [r.purpose for r in rows if r.state == "pending"]
    refused = [(r.purpose, r.failure_code) for r in rows if r.state == "refused"]
    assert queued == ["info_offers", "info_handbook", "info_network"]
    # The fourth text of the first call, then the first text each later call asked for.
    assert refused == [("info_mentor", "keyed_in_limit")] + [("info_offers", "keyed_in_limit")] * 4
    assert all(r.keyed_in and r.capped for r in rows)
    # The caller is told the truth: sent while it was, not sent after.
    assert outputs[0].count(SENT) == 3 and NOT_SENT in outputs[0]
    for output in outputs[1:]:
        assert SENT not in output and NOT_SENT in output
    records = [r for r in caplog.records if r.getMessage().startswith("sms refused by a cap")]
    assert len(records) == 5
    for record in caplog.records:
        assert STRANGER_DIGITS not in f"{record.getMessage()} {record.__dict__}"


def test_a_keyed_in_number_gets_only_its_callbacks_for_the_day_and_nobody_is_promised_more(
    make_app: AppFactory,
) -> None:
    """With one keyed-in callback a day: the first is registered; once it is closed, a second call keying in the
    same number is told the call could not be booked, and after the voicemail that no call is promised. The
    refusal is stored with the call and the recording, for staff."""
    app = _rostered(make_app, {"callbacks": {"keyed_in_per_number_per_day": 1}})
    book = ["1", "3", STRANGER_DIGITS, "1", "1"]
    _, _, first = dial_in(app, book, caller="anonymous")
    assert "Tak. Vi ringer dig op" in first
    runtime: Runtime = app.extensions["hotline"]
    with runtime.sessions.begin() as session:
        (callback,) = session.scalars(select(CallbackRequest)).all()
        assert callback.keyed_in
        callback_queue.move(session, callback, Event.CANCEL, "advisor:anna")

    _, _, second = dial_in(app, book, caller="anonymous")

    assert "Vi kunne desværre ikke bestille opkaldet lige nu" in second
    assert "Til det nummer kan vi ikke bestille flere opkald i dag" in second
    assert "ringer dig op så snart vi kan" not in second
    assert len(_rows(app, CallbackRequest)) == 1  # no second callback
    (refusal,) = _rows(app, CallbackRefusal)
    assert isinstance(refusal, CallbackRefusal)
    assert (refusal.phone_number, refusal.reason) == (STRANGER, "keyed_in_limit")
    assert refusal.call_sid and refusal.recording_sid  # the call, and the message left instead


def test_the_callers_own_number_is_not_held_to_the_keyed_in_cap(make_app: AppFactory) -> None:
    """A caller whose number we see asks for every text: only the hourly cap applies (5 by default)."""
    app = _rostered(make_app)
    dial_in(app, ["1", "4", "1", "1", "2", "1", "3", "1", "4", "", ""], caller=RELATIVE)
    rows = _texts(app, RELATIVE)
    assert [r.state for r in rows] == ["pending"] * 4
    assert not any(r.keyed_in for r in rows)


def test_information_texts_from_the_phone_menu_count_in_the_hourly_cap(make_app: AppFactory) -> None:
    """Information asked for on the phone is automatic too: past the per-number cap it is refused, and the flow
    hears "failed" (the caller is told it was not sent)."""
    app = make_app({"sms": {"auto_replies_per_number_per_hour": 2}})
    runtime: Runtime = app.extensions["hotline"]
    caller = Caller("CA" + "a" * 32, RELATIVE)
    results = []
    with runtime.sessions.begin() as session:
        for topic in ("offers", "handbook", "network"):
            action = Action("sms_info", {"topic": topic, "language": "da"}, CallState(language="da"))
            results.append(carry_out(session, runtime, caller, action))
    assert results == ["sent", "sent", "failed"]
    assert [(r.state, r.failure_code) for r in _texts(app)] == [
        ("pending", None),
        ("pending", None),
        ("refused", "number_limit"),
    ]


def test_callback_status_texts_count_in_the_same_cap_as_the_receipts(make_app: AppFactory) -> None:
    """Two receipts fill a per-number cap of 2: the callback ordered next is registered, but its "we will call
    you" text is refused and kept, not sent."""
    app = make_app({"sms": {"auto_replies_per_number_per_hour": 2}})
    runtime: Runtime = app.extensions["hotline"]
    twilio = TwilioSigner(app.test_client(), runtime.signing_secret)
    for body in ("Hej", "Er I der?"):
        assert twilio.post("/twilio/sms", _sms_params(body, RELATIVE)).status_code == 200
    register_callback(runtime, utcnow(), window="asap", number=RELATIVE)
    assert [(r.purpose, r.state, r.failure_code) for r in _texts(app)] == [
        ("received", "pending", None),
        ("received", "pending", None),
        ("callback_registered", "refused", "number_limit"),
    ]
    assert len(_rows(app, CallbackRequest)) == 1


def test_the_global_cap_counts_every_kind_of_automatic_text_but_not_staff_texts(make_app: AppFactory) -> None:
    app = make_app({"sms": {"auto_replies_total_per_hour": 1}})
    runtime: Runtime = app.extensions["hotline"]
    now = utcnow()
    with runtime.sessions.begin() as session:
        action = Action("sms_info", {"topic": "offers", "language": "da"}, CallState(language="da"))
        assert carry_out(session, runtime, Caller("CA" + "b" * 32, RELATIVE), action) == "sent"
        settings = runtime.settings
        staff_text(
            session,
            settings,
            PHONES["anna"],
            "roster_gap",
            now,
            dedup_key="gap",
            expires_at=None,
            window="i nat",
            url="http://127.0.0.1:8000/staff/roster",
        )
    register_callback(runtime, now, window="asap", number="+4567000005")
    states = {(r.purpose, r.state) for r in _texts(app)}
    assert states == {
        ("info_offers", "pending"),
        ("roster_gap", "pending"),
        ("callback_registered", "refused"),
    }


def test_a_session_without_caps_cannot_write_a_text_to_a_relative(app: Flask) -> None:
    """The caps come with the hotline's sessions; a session built without them fails loudly rather than send
    uncapped."""
    from sqlalchemy.orm import Session

    with Session(app.extensions["hotline"].engine) as session, pytest.raises(RuntimeError, match="send caps"):
        outbox.enqueue(
            session, to=RELATIVE, purpose="received", language="da", now=utcnow(), capped=True, body="Hej"
        )


def test_staff_see_what_the_caps_refused(make_app: AppFactory, runner: HotlineRunner) -> None:
    """`hotline outbox --state refused` and `hotline callbacks list` show the refusals, numbers masked; the
    handover page counts them."""
    app = _rostered(make_app, {"callbacks": {"keyed_in_per_number_per_day": 0}})
    dial_in(
        app, ["1", "4", STRANGER_DIGITS, "1", "1", "1", "2", "1", "3", "1", "4", "", ""], caller="anonymous"
    )
    dial_in(app, ["1", "3", STRANGER_DIGITS, "1", "1"], caller="anonymous")

    listed = runner.invoke(["outbox", "--state", "refused"])
    assert listed.exit_code == 0, listed.output
    assert "info_mentor" in listed.output and "keyed_in_limit" in listed.output
    assert "+45 67 00 ** **" in listed.output and STRANGER_DIGITS not in listed.output
    queue = runner.invoke(["callbacks", "list"])
    assert queue.exit_code == 0, queue.output
    assert "afvist af loftet for indtastede numre" in queue.output
    assert "+45 67 00 ** **" in queue.output and STRANGER_DIGITS not in queue.output

    add_staff(app, "bo")
    client = app.test_client()
    console_login(client, "bo")
    page = client.get("/console/handover").get_data(as_text=True)
    assert "har det seneste døgn afvist 1 sms og 1 tilbagekald" in page

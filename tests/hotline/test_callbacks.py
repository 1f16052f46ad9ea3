"""Calling back: the advisor is rung first and presses 1, then the relative; outcomes move the callback on."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from hotline.db.models import CallbackAttempt, CallbackRequest, DemoOutbound, OutboxText, utcnow
from hotline.services import callback_queue, relatives, rosters
from hotline.services.callback_calls import CallbackError, start
from routing.callbacks import Event, Priority
from tests.helpers import (
    ALWAYS_ON_CALL,
    RELATIVE,
    HotlineRunner,
    TwilioSigner,
    call_params,
    dial_in,
    import_roster,
)


@pytest.fixture
def queued(app: Flask) -> int:
    """A scheduled question callback for the test relative, and the test roster."""
    runtime = app.extensions["hotline"]
    with runtime.sessions.begin() as session:
        rosters.import_roster(session, ALWAYS_ON_CALL, source_name="test.yaml", actor="test")
        relative, _ = relatives.find_or_create(session, RELATIVE)
        registration = callback_queue.register(
            session,
            relative=relative,
            call_sid="CA" + "c" * 32,
            priority=Priority.QUESTION,
            reason="question",
            language="ar",
            window_key="asap",
            settings=runtime.settings.file.callbacks,
            assigned_advisor_id="anna",
            now=utcnow(),
            actor="test",
            policy=runtime.policy,
        )
        return registration.callback.id


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + "?" + parts.query


def _walk_advisor(twilio: TwilioSigner, url: str, press: str) -> ET.Element:
    doc = ET.fromstring(twilio.post(_path(url), call_params(CallStatus="in-progress")).data)
    gather = doc.find("Gather")
    assert gather is not None and "tilbagekald" in "".join(gather.itertext())
    assert "arabisk" in "".join(gather.itertext())
    return ET.fromstring(twilio.post(_path(gather.get("action", "")), call_params(Digits=press)).data)


def _state(app: Flask, callback_id: int) -> CallbackRequest:
    with app.extensions["hotline"].sessions() as session:
        callback = session.get(CallbackRequest, callback_id)
        assert callback is not None
        return callback


def test_advisor_first_then_relative_then_reached(app: Flask, twilio: TwilioSigner, queued: int) -> None:
    runtime = app.extensions["hotline"]
    started = start(runtime, queued, "anna", actor="cli:anna")
    with runtime.sessions() as session:
        (placed,) = session.scalars(select(DemoOutbound)).all()
    assert (placed.kind, placed.to_number, placed.sid) == ("call", "+4568200001", started.call_sid)
    assert _state(app, queued).state == "in_progress"
    assert placed.url is not None
    dial_doc = _walk_advisor(twilio, placed.url, "1")
    dial = dial_doc.find("Dial")
    assert dial is not None and dial.get("callerId") == "+4568000000"
    number = dial.find("Number")
    assert number is not None and number.text == RELATIVE
    intro = twilio.post(_path(number.get("url", "")), call_params()).get_data(as_text=True)
    assert 'language="arb"' in intro  # the relative hears their own language
    for _ in range(2):  # a retried action records once
        twilio.post(_path(dial.get("action", "")), call_params(DialCallStatus="completed"))
    callback = _state(app, queued)
    assert (callback.state, callback.open_for_relative) == ("reached", None)


def test_not_reached_is_retried_per_policy_then_final(app: Flask, twilio: TwilioSigner, queued: int) -> None:
    runtime = app.extensions["hotline"]
    policy = runtime.settings.file.callbacks
    for attempt in range(1, policy.max_attempts + 1):
        start(runtime, queued, "anna", actor="cli:anna")
        with runtime.sessions() as session:
            placed = session.scalars(select(DemoOutbound).order_by(DemoOutbound.id.desc())).first()
        assert placed is not None and placed.url
        dial = _walk_advisor(twilio, placed.url, "1").find("Dial")
        assert dial is not None
        twilio.post(_path(dial.get("action", "")), call_params(DialCallStatus="no-answer"))
        callback = _state(app, queued)
        assert callback.attempts == attempt
        if attempt < policy.max_attempts:
            assert callback.state == "scheduled"
            assert callback.next_attempt_at is not None
            assert callback.next_attempt_at - utcnow() > timedelta(
                minutes=policy.minutes_between_attempts - 1
            )
    assert _state(app, queued).state == "not_reached"
    with runtime.sessions() as session:
        from hotline.db.models import OutboxText

        purposes = [t.purpose for t in session.scalars(select(OutboxText).order_by(OutboxText.id))]
    # Registered, one "we will try again" per retry, and at the end: we could not reach you, reply RING.
    assert purposes == ["callback_registered"] + ["callback_missed"] * (policy.max_attempts - 1) + [
        "callback_given_up"
    ]


def test_advisor_who_does_not_press_1_hands_the_callback_back(
    app: Flask, twilio: TwilioSigner, queued: int
) -> None:
    runtime = app.extensions["hotline"]
    started = start(runtime, queued, "anna", actor="cli:anna")
    with runtime.sessions() as session:
        placed = session.scalars(select(DemoOutbound)).one()
    doc = _walk_advisor(twilio, placed.url or "", "5")
    assert doc.find("Hangup") is not None and doc.find("Dial") is None
    twilio.post(
        f"/twilio/callback/advisor-status?attempt={started.attempt_id}",
        {"CallSid": started.call_sid, "CallStatus": "completed"},
    )
    callback = _state(app, queued)
    assert (callback.state, callback.attempts) == ("scheduled", 0)
    with runtime.sessions() as session:
        attempt = session.get(CallbackAttempt, started.attempt_id)
        assert attempt is not None and attempt.outcome == "advisor_completed"


def test_only_a_scheduled_callback_can_be_started(app: Flask, queued: int) -> None:
    runtime = app.extensions["hotline"]
    start(runtime, queued, "anna", actor="cli:anna")
    with pytest.raises(CallbackError, match="in_progress; only a scheduled callback can be started"):
        start(runtime, queued, "bo", actor="cli:bo")
    with pytest.raises(CallbackError, match="not in the roster"):
        start(runtime, queued, "nobody", actor="cli")


def test_notes_from_the_command_line_show_in_the_history(
    app: Flask, queued: int, runner: HotlineRunner
) -> None:
    saved = runner.invoke(["callbacks", "note", str(queued), "Ring efter kl. 9", "--advisor", "anna"])
    assert saved.exit_code == 0, saved.output
    listed = runner.invoke(["callbacks", "list", "--history"])
    assert "anna: note: Ring efter kl. 9" in listed.output
    assert "+45 67 12 ** **" in listed.output and RELATIVE not in listed.output  # masked in the listing
    # A note is typed by a person and shown in others' terminals: control characters are shown, not obeyed.
    runner.invoke(["callbacks", "note", str(queued), "ryd\x1b[2J\x1b[Hskærm", "--advisor", "bo"])
    listed = runner.invoke(["callbacks", "list", "--history"])
    assert "bo: note: ryd\\u001b[2J\\u001b[Hskærm" in listed.output and "\x1b" not in listed.output
    empty = runner.invoke(["callbacks", "note", str(queued), "  ", "--advisor", "anna"])
    assert empty.exit_code == 2
    unknown = runner.invoke(["callbacks", "note", "999", "x", "--advisor", "anna"])
    assert unknown.exit_code == 1 and "does not exist" in unknown.output


def test_the_queue_returns_the_texts_its_steps_queue(app: Flask) -> None:
    """What a step of the callback's life queues for the relative comes back to the caller (nobody has to search
    the outbox for it), and recording a step that has no text queues none."""
    runtime = app.extensions["hotline"]
    now = utcnow()
    with runtime.sessions.begin() as session:
        relative, _ = relatives.find_or_create(session, RELATIVE)

        def register(call_sid: str) -> callback_queue.Registration:
            return callback_queue.register(
                session,
                relative=relative,
                call_sid=call_sid,
                priority=Priority.QUESTION,
                reason="question",
                language="da",
                window_key="asap",
                settings=runtime.settings.file.callbacks,
                assigned_advisor_id=None,
                now=now,
                actor="test",
                policy=runtime.policy,
            )

        first = register("CA" + "d" * 32)
        assert first.created and first.text is not None
        assert (first.text.purpose, first.text.callback_id) == ("callback_registered", first.callback.id)
        again = register("CA" + "e" * 32)  # a second call joins the open request: no second promise
        assert (again.created, again.text, again.callback.id) == (False, None, first.callback.id)
        callback = first.callback
        assert callback_queue.move(session, callback, Event.START, "advisor:anna", now) is None
        done = callback_queue.move(session, callback, Event.ANSWERED, "advisor:anna", now)
        assert done is not None and done.purpose == "callback_done"
        texts = session.scalars(select(OutboxText.purpose).where(OutboxText.callback_id == callback.id)).all()
    assert sorted(texts) == ["callback_done", "callback_registered"]


def test_a_voicemail_from_a_withheld_number_is_listed_refused_for_dialling_and_closable(
    app: Flask, runner: HotlineRunner
) -> None:
    """Nobody can call back a withheld number, but staff see the message in the queue and close it."""
    _, _, output = dial_in(app, ["1", "1", "2"], caller="anonymous")  # nobody on call: leave a message
    assert "fordi dit nummer er skjult" in output, output
    import_roster(app, ALWAYS_ON_CALL)
    with app.extensions["hotline"].sessions() as session:
        (task,) = session.scalars(select(CallbackRequest)).all()
    listed = runner.invoke(["callbacks", "list"])
    assert listed.exit_code == 0, listed.output
    assert "skjult nummer" in listed.output and task.recording_sid in listed.output
    assert f"hotline callbacks close {task.id}" in listed.output

    with pytest.raises(CallbackError, match="withheld number and cannot be dialled"):
        start(app.extensions["hotline"], task.id, "anna", actor="test")

    closed = runner.invoke(["callbacks", "close", str(task.id), "--advisor", "anna"])
    assert closed.exit_code == 0, closed.output
    assert _state(app, task.id).state == "cancelled"
    assert "ingen åbne tilbagekald" in runner.invoke(["callbacks", "list"]).output
    again = runner.invoke(["callbacks", "close", str(task.id), "--advisor", "anna"])
    assert again.exit_code == 1 and "is already finished" in again.output

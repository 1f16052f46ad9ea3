"""The outbox sending through the real twilio Client against a fake Twilio on loopback: sends, retries with
backoff, permanent errors, the toll-fraud guard, the opt-out registry for every kind of text, delivery status
callbacks in and out of order, and never a text twice."""

from __future__ import annotations

import threading
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select

from hotline.db.models import CallbackAttempt, CallbackRequest, Message, OutboxText, SmsOptOut
from hotline.jobs import outbox as send_loop
from hotline.services import callback_queue, opt_outs, outbox, relatives
from hotline.services.callback_calls import record_outcome
from hotline.transport.base import PlacedCall, SentMessage
from hotline.twilio.rest import TwilioTransport, make_client
from routing.callbacks import Event, Priority
from tests.fake_twilio import FakeTwilio, Reply, error
from tests.helpers import (
    HOTLINE,
    RELATIVE,
    TWILIO_ACCOUNT,
    TWILIO_NOW,
    AppFactory,
    HotlineRunner,
    TwilioSigner,
)

SID = TWILIO_ACCOUNT
NOW = TWILIO_NOW  # 10:00 in Copenhagen: the fake Twilio's clock too
ADVISOR = "+4568300001"


def put(
    app: Flask,
    to: str = RELATIVE,
    body: str = "Hej fra Pårørendelinjen",
    purpose: str = "received",
    **extra: Any,
) -> int:
    """Write one text to the outbox, as the code that causes it would."""
    runtime = app.extensions["hotline"]
    extra.setdefault("capped", False)  # these tests are about sending; the caps have their own
    with runtime.sessions.begin() as session:
        written = outbox.enqueue(session, to=to, purpose=purpose, language="da", now=NOW, body=body, **extra)
        assert written is not None
        return written.id


def row(app: Flask, outbox_id: int) -> OutboxText:
    with app.extensions["hotline"].sessions() as session:
        found = session.get(OutboxText, outbox_id)
        assert found is not None
        return found


def send(app: Flask, at: timedelta = timedelta(0)) -> outbox.SendReport:
    return send_loop.send_due(app.extensions["hotline"], NOW + at)


def sent_bodies(fake: FakeTwilio) -> list[str]:
    return [r.form["Body"][0] for r in fake.requests if r.path.endswith("/Messages.json")]


def test_a_text_goes_through_the_real_client_and_joins_the_thread(live: Flask, fake: FakeTwilio) -> None:
    runtime = live.extensions["hotline"]
    with runtime.sessions.begin() as session:
        relative, _ = relatives.find_or_create(session, RELATIVE)
        relative_id = relative.id
    outbox_id = put(live, body="Vi ringer i aften ❤️", relative_id=relative_id)
    report = send(live)
    assert (report.sent, report.failed, report.retrying) == (1, 0, 0)
    (request,) = fake.requests
    assert request.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request.form["To"] == [RELATIVE] and request.form["From"] == ["+4568000000"]
    assert request.form["Body"] == ["Vi ringer i aften ❤️"]
    assert request.form["StatusCallback"] == ["http://127.0.0.1:8000/twilio/sms/status"]
    done = row(live, outbox_id)
    assert (done.state, done.attempts, done.body, done.sent_at) == ("sent", 0, None, NOW)
    with runtime.sessions() as session:
        message = session.get(Message, done.message_id)
        assert message is not None
        assert (message.direction, message.body, message.relative_id, message.status) == (
            "outbound",
            "Vi ringer i aften ❤️",
            relative_id,
            "queued",
        )
        assert message.message_sid and message.message_sid.startswith("SM")
    assert send(live, timedelta(minutes=5)).handled == 0  # never twice
    assert len(fake.requests) == 1


def test_the_status_callback_url_follows_the_public_url(make_app: AppFactory, fake: FakeTwilio) -> None:
    app = make_app(
        transport=TwilioTransport(make_client(SID, "token", fake.url, timeout=1.0)),
        HOTLINE_PUBLIC_URL="https://hotline.example.dk",
    )
    put(app)
    send(app)
    assert fake.requests[0].form["StatusCallback"] == ["https://hotline.example.dk/twilio/sms/status"]


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (error(500, 20500), "20500"),
        (error(503, 20503), "20503"),
        (error(429, 20429), "20429"),
        (error(500, 20500, delay=2.5), "timeout"),  # the answer came too late, and Twilio had not taken it
    ],
    ids=["500", "503", "429", "timeout"],
)
def test_transient_failures_retry_with_backoff(
    live: Flask, fake: FakeTwilio, reply: Reply, code: str
) -> None:
    fake.script.append(reply)
    outbox_id = put(live)
    assert send(live).retrying == 1
    waiting = row(live, outbox_id)
    assert (waiting.state, waiting.attempts, waiting.failure_code) == ("pending", 1, code)
    assert waiting.next_attempt_at == NOW + timedelta(seconds=30)
    assert send(live, timedelta(seconds=29)).handled == 0  # not due yet
    assert len(fake.requests) == 1
    assert send(live, timedelta(seconds=30)).sent == 1
    assert row(live, outbox_id).state == "sent"
    assert len(sent_bodies(fake)) == 2
    # After a timeout Twilio is asked first (it did not have the text, so it was sent again).
    assert [r.method for r in fake.requests] == (
        ["POST", "GET", "POST"] if code == "timeout" else ["POST"] * 2
    )
    assert len(fake.messages) == 1


def test_a_text_twilio_took_before_the_timeout_is_not_sent_again(live: Flask, fake: FakeTwilio) -> None:
    fake.script.append(Reply(delay=2.5))  # Twilio took the text; its answer came after the client's 1 s
    outbox_id = put(live)
    assert send(live).retrying == 1
    waiting = row(live, outbox_id)
    assert (waiting.failure_code, waiting.uncertain_since) == ("timeout", NOW)
    assert send(live, timedelta(seconds=30)).sent == 1
    assert [r.method for r in fake.requests] == ["POST", "GET"]  # looked up, found, not posted twice
    (taken,) = fake.messages
    get = fake.requests[1]
    assert (get.form["To"], get.form["From"]) == ([RELATIVE], [HOTLINE])
    with live.extensions["hotline"].sessions() as session:
        message = session.get(Message, row(live, outbox_id).message_id)
    assert message is not None and message.message_sid == taken["sid"]


def test_an_identical_older_text_is_not_mistaken_for_the_one_that_timed_out(
    live: Flask, fake: FakeTwilio
) -> None:
    # The same words went to the same number yesterday (say, the same receipt): that is not this text.
    fake.keep(
        {"sid": "SM" + "0" * 32},
        {"To": [RELATIVE], "From": [HOTLINE], "Body": ["Hej fra Pårørendelinjen"]},
        at=NOW - timedelta(days=1),
    )
    fake.script.append(error(500, 20500, delay=2.5))
    outbox_id = put(live)
    send(live)
    assert send(live, timedelta(seconds=30)).sent == 1
    assert [r.method for r in fake.requests] == ["POST", "GET", "POST"]
    with live.extensions["hotline"].sessions() as session:
        message = session.get(Message, row(live, outbox_id).message_id)
    assert message is not None and message.message_sid != "SM" + "0" * 32


def test_a_failed_lookup_is_retried_and_never_sends_blindly(live: Flask, fake: FakeTwilio) -> None:
    fake.script.extend([Reply(delay=2.5), error(503, 20503)])  # taken but timed out; then the lookup fails
    outbox_id = put(live)
    send(live)
    assert send(live, timedelta(seconds=30)).retrying == 1
    assert row(live, outbox_id).failure_code == "lookup"
    assert [r.method for r in fake.requests] == ["POST", "GET"]
    later = row(live, outbox_id).next_attempt_at
    assert later is not None
    assert send(live, later - NOW).sent == 1  # still uncertain: asked again, found
    assert [r.method for r in fake.requests] == ["POST", "GET", "GET"]
    assert len(fake.messages) == 1


def test_the_backoff_doubles_and_gives_up_after_the_configured_attempts(
    make_app: AppFactory, fake: FakeTwilio
) -> None:
    app = make_app(
        {"sms": {"send_attempts": 4, "retry_seconds": 10, "retry_max_seconds": 25}},
        transport=TwilioTransport(make_client(SID, "token", fake.url, timeout=1.0)),
    )
    fake.script.extend(error(500, 20500) for _ in range(4))
    outbox_id = put(app)
    at, waits = timedelta(0), []
    for _ in range(3):
        send(app, at)
        next_at = row(app, outbox_id).next_attempt_at
        assert next_at is not None
        waits.append(next_at - (NOW + at))
        at = next_at - NOW
    assert waits == [timedelta(seconds=10), timedelta(seconds=20), timedelta(seconds=25)]
    assert send(app, at).failed == 1
    final = row(app, outbox_id)
    assert (final.state, final.attempts, final.failure_code) == ("failed", 4, "20500")
    assert final.failure_detail is not None and final.failure_detail.startswith("gave up after 4 attempts")
    assert send(app, at + timedelta(hours=1)).handled == 0
    assert len(fake.requests) == 4


@pytest.mark.parametrize(
    ("code", "opts_out"),
    [(21610, True), (21614, False), (21211, False)],
    ids=["unsubscribed", "not-a-mobile", "invalid-number"],
)
def test_permanent_errors_stop_at_once_with_the_reason(
    live: Flask, fake: FakeTwilio, code: int, opts_out: bool
) -> None:
    fake.script.append(error(400, code))
    outbox_id = put(live)
    assert send(live).failed == 1
    failed = row(live, outbox_id)
    assert (failed.state, failed.attempts, failed.failure_code) == ("failed", 1, str(code))
    assert failed.failure_detail is not None and "4567123456" not in failed.failure_detail  # masked
    assert send(live, timedelta(hours=2)).handled == 0
    assert len(fake.requests) == 1
    with live.extensions["hotline"].sessions() as session:
        registry = session.scalars(select(SmsOptOut)).all()
    assert [(r.phone_number, r.source) for r in registry] == (
        [(RELATIVE, "twilio:21610")] if opts_out else []
    )


@pytest.mark.parametrize(
    ("to", "code"),
    [
        ("+4590000000", "guard:premium_rate"),
        ("+4570000000", "guard:shared_cost"),
        ("+46700000000", "guard:country_not_allowed"),
        ("+881600000000", "guard:satellite_or_international_network"),
    ],
    ids=["premium", "shared-cost", "foreign", "satellite"],
)
def test_the_toll_fraud_guard_refuses_before_twilio_is_asked(
    live: Flask, fake: FakeTwilio, to: str, code: str
) -> None:
    outbox_id = put(live, to=to)
    assert send(live).failed == 1
    refused = row(live, outbox_id)
    assert (refused.state, refused.attempts, refused.failure_code) == ("failed", 1, code)
    assert fake.requests == []


def _reply(app: Flask) -> int:
    return put(app, auto_reply=True)


def _info(app: Flask) -> int:
    return put(app, purpose="info_offers")


def _staff(app: Flask) -> int:
    return put(app, purpose="handover")


def _status(app: Flask) -> int:
    runtime = app.extensions["hotline"]
    with runtime.sessions.begin() as session:
        relative, _ = relatives.find_or_create(session, RELATIVE)
        callback = callback_queue.register(
            session,
            relative=relative,
            call_sid="CA" + "d" * 32,
            priority=Priority.QUESTION,
            reason="question",
            language="da",
            window_key="asap",
            settings=runtime.settings.file.callbacks,
            assigned_advisor_id=None,
            now=NOW,
            actor="test",
            policy=runtime.policy,
        ).callback
        text = session.scalars(select(OutboxText).where(OutboxText.callback_id == callback.id)).one()
        return text.id


@pytest.mark.parametrize(
    "write", [_reply, _info, _staff, _status], ids=["auto-reply", "info", "staff", "status"]
)
def test_the_opt_out_registry_is_honoured_by_every_kind_of_text(
    live: Flask, fake: FakeTwilio, write: Callable[[Flask], int]
) -> None:
    outbox_id = write(live)  # written before the STOP arrived
    with live.extensions["hotline"].sessions.begin() as session:
        assert opt_outs.opt_out(session, RELATIVE, source="keyword", now=NOW)
    assert send(live).cancelled == 1
    cancelled = row(live, outbox_id)
    assert (cancelled.state, cancelled.failure_code) == ("cancelled", "opted_out")
    assert fake.requests == []


def test_the_opt_out_confirmation_and_help_still_reach_an_opted_out_number(
    live: Flask, fake: FakeTwilio
) -> None:
    with live.extensions["hotline"].sessions.begin() as session:
        opt_outs.opt_out(session, RELATIVE, source="keyword", now=NOW)
    put(live, purpose="opt_out_confirmed", body="Du får ikke flere", ignores_opt_out=True)
    put(live, purpose="received", body="Tak for din besked")
    report = send(live)
    assert (report.sent, report.cancelled) == (1, 1)
    assert sent_bodies(fake) == ["Du får ikke flere"]


@pytest.mark.parametrize(
    ("statuses", "final"),
    [
        (["sent", "delivered"], "delivered"),
        (["delivered", "sent"], "delivered"),
        (["sent", "delivered", "sending", "queued"], "delivered"),
        (["undelivered", "delivered", "sent"], "undelivered"),
        (["failed", "sent"], "failed"),
        (["sending", "sent"], "sent"),
        (["bogus-status", "sent"], "sent"),
    ],
)
def test_delivery_callbacks_only_move_a_text_forward(
    live: Flask, fake: FakeTwilio, statuses: list[str], final: str
) -> None:
    outbox_id = put(live)
    send(live)
    twilio = TwilioSigner(live.test_client(), live.extensions["hotline"].signing_secret)
    with live.extensions["hotline"].sessions() as session:
        message = session.get(Message, row(live, outbox_id).message_id)
        assert message is not None and message.message_sid
        sid = message.message_sid
    for status in statuses:
        params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": SID}
        if status == "undelivered":
            params["ErrorCode"] = "30005"
        response = twilio.post("/twilio/sms/status", params)
        assert response.status_code == 204
    with live.extensions["hotline"].sessions() as session:
        message = session.scalars(select(Message).where(Message.message_sid == sid)).one()
    assert message.status == final
    assert message.error_code == ("30005" if final == "undelivered" else None)


def test_a_delivery_callback_that_overtakes_the_recorded_send_is_not_lost(
    live: Flask, fake: FakeTwilio
) -> None:
    sid = "SM" + "e" * 32
    fake.script.append(Reply(body={"sid": sid, "status": "queued"}))
    twilio = TwilioSigner(live.test_client(), live.extensions["hotline"].signing_secret)
    for status in ("sent", "delivered"):  # before the send is recorded: the SID is not known yet
        twilio.post("/twilio/sms/status", {"MessageSid": sid, "MessageStatus": status})
    outbox_id = put(live)
    send(live)
    with live.extensions["hotline"].sessions() as session:
        message = session.get(Message, row(live, outbox_id).message_id)
    assert message is not None and (message.message_sid, message.status) == (sid, "delivered")


@pytest.mark.parametrize(
    ("first_reply", "state", "methods"),
    [
        (Reply(delay=2.5), "sent", ["POST", "GET"]),  # Twilio took it: the record says so
        (error(500, 20500, delay=2.5), "cancelled", ["POST", "GET"]),  # it did not: cancelled, not sent late
    ],
    ids=["taken", "not-taken"],
)
def test_an_uncertain_text_that_expires_is_looked_up_before_it_is_cancelled(
    live: Flask, fake: FakeTwilio, first_reply: Reply, state: str, methods: list[str]
) -> None:
    fake.script.append(first_reply)
    outbox_id = put(live, expires_at=NOW + timedelta(seconds=20))
    assert send(live).retrying == 1  # timed out; the retry comes after the text has expired
    report = send(live, timedelta(seconds=30))
    done = row(live, outbox_id)
    assert done.state == state and [r.method for r in fake.requests] == methods
    assert (report.sent, report.cancelled) == ((1, 0) if state == "sent" else (0, 1))
    assert done.failure_code == (None if state == "sent" else "expired")


def test_a_trial_accounts_prefix_does_not_hide_the_text(live: Flask, fake: FakeTwilio) -> None:
    fake.script.append(
        Reply(
            body={"sid": "SM" + "f" * 32, "status": "queued", "body": "x"},
            delay=2.5,
        )
    )
    outbox_id = put(live, body="Hej")
    send(live)
    fake.messages[0]["body"] = "Sent from your Twilio trial account - Hej"  # what a trial account stores
    assert send(live, timedelta(seconds=30)).sent == 1
    assert [r.method for r in fake.requests] == ["POST", "GET"]
    with live.extensions["hotline"].sessions() as session:
        message = session.get(Message, row(live, outbox_id).message_id)
    assert message is not None and message.message_sid == "SM" + "f" * 32


@pytest.mark.parametrize("reached_twilio", [False, True], ids=["died-before-sending", "died-after-sending"])
def test_a_text_left_sending_by_a_dead_worker_is_sent_exactly_once(
    live: Flask, fake: FakeTwilio, reached_twilio: bool
) -> None:
    runtime = live.extensions["hotline"]
    outbox_id = put(live)
    claimed = send_loop.claim(runtime.sessions, runtime.settings, NOW, 10)  # claimed, then the worker died
    assert [c.id for c in claimed] == [outbox_id]
    if reached_twilio:
        fake.keep({"sid": "SM" + "d" * 32}, {"To": [RELATIVE], "From": [HOTLINE], "Body": [claimed[0].body]})
    assert send_loop.claim(runtime.sessions, runtime.settings, NOW, 10) == []  # nobody else takes it
    assert send(live, timedelta(minutes=29)).interrupted == 0
    report = send(live, timedelta(minutes=31))
    assert (report.interrupted, report.sent) == (1, 1)
    done = row(live, outbox_id)
    assert (done.state, done.uncertain_since, done.attempts) == ("sent", NOW, 1)
    assert len(fake.messages) == 1  # Twilio holds the text once, whether or not the dead worker got it there
    assert [r.method for r in fake.requests] == (["GET"] if reached_twilio else ["GET", "POST"])
    with runtime.sessions() as session:
        message = session.get(Message, done.message_id)
    assert message is not None and message.message_sid == fake.messages[0]["sid"]


def test_a_text_past_its_expiry_is_cancelled(live: Flask, fake: FakeTwilio) -> None:
    outbox_id = put(live, expires_at=NOW + timedelta(hours=2))
    assert send(live, timedelta(hours=2)).cancelled == 1
    assert row(live, outbox_id).failure_code == "expired"
    assert fake.requests == []


def test_callback_status_texts_are_worded_when_sent_from_the_callback_as_it_stands(
    live: Flask, fake: FakeTwilio
) -> None:
    runtime = live.extensions["hotline"]
    settings = runtime.settings.file.callbacks
    with runtime.sessions.begin() as session:
        relative, _ = relatives.find_or_create(session, RELATIVE)
        callback = callback_queue.register(
            session,
            relative=relative,
            call_sid="CA" + "f" * 32,
            priority=Priority.QUESTION,
            reason="question",
            language="en",
            window_key="this_evening",
            settings=settings,
            assigned_advisor_id=None,
            now=NOW,
            actor="system:ivr",
            policy=runtime.policy,
        ).callback
        callback_id = callback.id
    send(live)
    assert sent_bodies(fake)[-1].startswith(
        "Pårørendelinjen: Thank you, we will call you this evening between 17:00 and 21:00."
    )

    def attempt(reached: bool, at: timedelta) -> None:
        with runtime.sessions.begin() as session:
            callback = session.get(CallbackRequest, callback_id)
            assert callback is not None
            callback_queue.move(session, callback, Event.START, "advisor:anna", NOW + at)
            attempt_row = CallbackAttempt(callback_id=callback_id, advisor_id=None, started_at=NOW + at)
            session.add(attempt_row)
            session.flush()
            record_outcome(
                session, attempt_row, reached=reached, now=NOW + at, actor="advisor:anna", settings=settings
            )

    attempt(False, timedelta(hours=7, minutes=10))  # 17:10: no answer; tried again 30 minutes later
    send(live, timedelta(hours=7, minutes=10))
    assert "We will try again this evening at 17:40." in sent_bodies(fake)[-1]
    attempt(True, timedelta(hours=7, minutes=40))
    send(live, timedelta(hours=7, minutes=41))
    assert sent_bodies(fake)[-1].startswith("Pårørendelinjen: Thank you for talking with us.")
    assert [r.purpose for r in _rows(live)] == ["callback_registered", "callback_missed", "callback_done"]


def test_a_status_text_that_is_no_longer_true_is_not_sent(live: Flask, fake: FakeTwilio) -> None:
    outbox_id = _status(live)
    runtime = live.extensions["hotline"]
    with runtime.sessions.begin() as session:
        text = session.get(OutboxText, outbox_id)
        assert text is not None and text.callback_id is not None
        callback = callback_queue.open_request(session, text.relative_id or 0)
        assert callback is not None
        callback_queue.move(session, callback, Event.CANCEL, "relative:sms", NOW)
    assert send(live).cancelled == 1
    assert row(live, outbox_id).failure_code == "stale"
    assert fake.requests == []


def _rows(app: Flask) -> list[OutboxText]:
    with app.extensions["hotline"].sessions() as session:
        return list(session.scalars(select(OutboxText).order_by(OutboxText.id)))


class Exploding:
    """A transport with a bug for one text: the batch must go on, and that text must not be tried again."""

    name = "exploding"

    def __init__(self) -> None:
        self.bodies: list[str] = []

    def send_sms(self, *, to: str, from_: str, body: str, status_callback: str | None) -> SentMessage:
        self.bodies.append(body)
        if body == "boom":
            raise RuntimeError("a bug in the transport")
        return SentMessage(sid="SM" + uuid.uuid4().hex, status="queued")

    def place_call(
        self, *, to: str, from_: str, url: str, status_callback: str | None, timeout_seconds: int = 20
    ) -> PlacedCall:
        raise NotImplementedError

    def erase(self, *, kind: str, sid: str) -> str:
        raise NotImplementedError

    def find_sent(self, *, to: str, from_: str, body: str, since: datetime) -> SentMessage | None:
        raise NotImplementedError


def test_an_unexpected_error_fails_that_text_only_and_it_is_never_retried(make_app: AppFactory) -> None:
    transport = Exploding()
    app = make_app(transport=transport)
    boom, fine = put(app, body="boom"), put(app, body="fine")
    report = send(app)
    assert (report.sent, report.failed, report.codes) == (1, 1, {"unexpected": 1})
    assert (row(app, boom).state, row(app, boom).failure_code) == ("failed", "unexpected")
    assert row(app, fine).state == "sent"
    assert send(app, timedelta(hours=1)).handled == 0
    assert sorted(transport.bodies) == ["boom", "fine"]


def test_hotline_outbox_lists_states_and_never_prints_a_body_raw(
    live: Flask, fake: FakeTwilio, runner: HotlineRunner
) -> None:
    put(live, body="Farlig \x1b[2J tekst \u202e")
    put(live, to="+4567200002", body="til en fastnettelefon")
    fake.script_to["+4567200002"] = deque([error(400, 21614)])
    send(live)
    result = runner.invoke(["outbox", "--bodies"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "sent" in lines[3] and "+45 67 12 ** **" in lines[3]  # newest first: the first text is last
    assert "failed" in lines[1] and "21614" in lines[1] and "+45 67 20 ** **" in lines[1]
    assert "Farlig \\u001b[2J tekst \\u202e" in result.output
    assert "\x1b" not in result.output and "\u202e" not in result.output
    failed = runner.invoke(["outbox", "--state", "failed", "--no-bodies"])
    assert failed.output.count("\n") == 2 and "til en fastnettelefon" not in failed.output


# --- batches: one claim, concurrent sends, one recording -------------------------------------------------------


def batch_app(make_app: AppFactory, fake: FakeTwilio, threads: int = 4, timeout: float = 1.0) -> Flask:
    return make_app(
        {"sms": {"send_threads": threads}},
        transport=TwilioTransport(make_client(SID, "token", fake.url, timeout=timeout)),
    )


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the app's engine runs meanwhile (an executemany is one)."""
    seen: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    engine = app.extensions["hotline"].engine
    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def outbox_updates(seen: list[str]) -> list[str]:
    return [s for s in seen if "UPDATE sms_outbox" in s]


def test_a_batch_is_sent_at_once_by_the_send_threads_over_kept_alive_connections(
    make_app: AppFactory, fake: FakeTwilio
) -> None:
    app = batch_app(make_app, fake, threads=4, timeout=5.0)
    # Twilio answers none of the four texts until all four are in flight: one at a time, the first would time out.
    fake.barrier = threading.Barrier(4, timeout=10)
    for n in range(4):
        put(app, to=f"+45672000{n:02d}", body=f"tekst {n}")
    assert send(app).sent == 4
    for n in range(4, 8):
        put(app, to=f"+45672000{n:02d}", body=f"tekst {n}")
    assert send(app).sent == 4
    assert sorted(sent_bodies(fake)) == [f"tekst {n}" for n in range(8)]
    # Four threads, each keeping its connection between texts and between batches: not a connection per text.
    assert len({r.peer for r in fake.requests}) == 4


def test_a_batch_is_claimed_with_one_statement_whatever_its_size(live: Flask, fake: FakeTwilio) -> None:
    runtime = live.extensions["hotline"]

    def claim_batch(first: int, size: int) -> tuple[list[str], int]:
        with runtime.sessions.begin() as session:
            opt_outs.opt_out(session, f"+45672100{first:02d}", source="sms", now=NOW)
        for n in range(first, first + size):
            put(live, to=f"+45672200{n:02d}", body=f"tekst {n}")
        put(live, to=f"+45672100{first:02d}")  # opted out: cancelled at the claim
        put(live, to=f"+45672300{first:02d}", expires_at=NOW)  # expired: cancelled at the claim
        with statements(live) as seen:
            claimed = send_loop.claim(runtime.sessions, runtime.settings, NOW, size + 2)
        assert len(claimed) == size
        return seen, len(claimed)

    small, _ = claim_batch(0, 1)
    large, _ = claim_batch(10, 20)
    assert len(large) == len(small)  # no statement per text
    (claim, cancel) = outbox_updates(large)
    assert "SET state=" in claim and "RETURNING" in claim and "LIMIT" in claim
    if runtime.engine.dialect.name == "postgresql":
        assert "FOR UPDATE SKIP LOCKED" in claim
    assert "cancelled" not in claim and cancel.count("state=") == 1  # the cancellations: one executemany
    with runtime.sessions() as session:
        states = Counter(session.scalars(select(OutboxText.state)))
    assert states == Counter({"sending": 21, "cancelled": 4})


def test_a_batch_is_recorded_with_one_statement_and_failures_retry_with_backoff(
    live: Flask, fake: FakeTwilio
) -> None:
    runtime = live.extensions["hotline"]

    def run(first: int, fine: int) -> tuple[list[str], outbox.SendReport, dict[str, int]]:
        numbers = {kind: f"+456730{first:02d}{n:02d}" for n, kind in enumerate(("429", "503", "21614"))}
        fake.script_to[numbers["429"]] = deque([error(429, 20429)])
        fake.script_to[numbers["503"]] = deque([error(503, 20503)])
        fake.script_to[numbers["21614"]] = deque([error(400, 21614)])
        ids = {kind: put(live, to=number, body=kind) for kind, number in numbers.items()}
        for n in range(fine):
            put(live, to=f"+456731{first:02d}{n:02d}", body=f"tekst {n}")
        with statements(live) as seen:
            report = send(live)
        return seen, report, ids

    small, report, _ = run(0, 1)
    assert (report.sent, report.retrying, report.failed) == (1, 2, 1)
    large, report, ids = run(1, 20)
    assert (report.sent, report.retrying, report.failed) == (20, 2, 1)
    assert len(large) == len(small)  # no statement per text
    claim, results = outbox_updates(
        large
    )  # one claim, one UPDATE (executemany) for the whole batch's results
    assert "RETURNING" in claim and "message_id=" in results
    for kind in ("429", "503"):
        waiting = row(live, ids[kind])
        assert (waiting.state, waiting.attempts, waiting.failure_code) == ("pending", 1, f"20{kind}")
        assert waiting.next_attempt_at == NOW + timedelta(seconds=30)
    assert (row(live, ids["21614"]).state, row(live, ids["21614"]).failure_code) == ("failed", "21614")
    assert send(live, timedelta(seconds=29)).handled == 0
    assert send(live, timedelta(seconds=30)).sent == 4  # both runs' 429 and 503, each sent once more
    with runtime.sessions() as session:
        states = Counter(session.scalars(select(OutboxText.state)))
    assert states == Counter({"sent": 25, "failed": 2})


def test_a_send_that_times_out_inside_a_batch_is_looked_up_before_it_is_sent_again(
    make_app: AppFactory, fake: FakeTwilio
) -> None:
    app = batch_app(make_app, fake, threads=4)
    taken, lost = "+4567400001", "+4567400002"
    fake.script_to[taken] = deque([Reply(delay=2.5)])  # Twilio took it; its answer came after the 1 s
    fake.script_to[lost] = deque([error(500, 20500, delay=2.5)])  # Twilio did not take it; as late
    ids = {to: put(app, to=to, body=f"til {to}") for to in (taken, lost, "+4567400003")}
    report = send(app)
    assert (report.sent, report.retrying, report.codes) == (1, 2, {"timeout": 2})
    assert send(app, timedelta(seconds=30)).sent == 2

    def asked(to: str) -> list[str]:
        return [r.method for r in fake.requests if r.form.get("To", [""])[0] == to]

    # Each looked up (GET) before anything more: the one Twilio had is never sent twice, the other is sent again.
    assert asked(taken) == ["POST", "GET"]
    assert asked(lost) == ["POST", "GET", "POST"]
    for to in (taken, lost):
        done = row(app, ids[to])
        assert (done.state, done.uncertain_since, done.attempts) == ("sent", NOW, 1)
    assert Counter(m["to"] for m in fake.messages) == Counter({taken: 1, lost: 1, "+4567400003": 1})
    with app.extensions["hotline"].sessions() as session:
        message = session.get(Message, row(app, ids[taken]).message_id)
    assert message is not None
    assert message.message_sid == next(m["sid"] for m in fake.messages if m["to"] == taken)


def test_the_job_sends_batch_after_batch_while_texts_are_due_and_it_leads(
    make_app: AppFactory, fake: FakeTwilio
) -> None:
    app = make_app(
        {"sms": {"batch_size": 2}},
        transport=TwilioTransport(make_client(SID, "token", fake.url, timeout=1.0)),
    )
    runtime = app.extensions["hotline"]
    for n in range(5):
        put(app, to=f"+45675000{n:02d}", body=f"tekst {n}")
    report = send_loop.send_while_due(runtime, lambda: NOW, 60, lambda: True)
    assert (report.sent, report.handled) == (5, 5)  # three batches in one run, not one batch per run
    for n in range(5, 10):
        put(app, to=f"+45675000{n:02d}", body=f"tekst {n}")
    # A process that no longer leads stops after the batch in hand.
    assert send_loop.send_while_due(runtime, lambda: NOW, 60, lambda: False).sent == 2
    assert len(sent_bodies(fake)) == 7


def test_a_batch_left_sending_by_a_dead_worker_is_looked_up_text_by_text_and_sent_exactly_once(
    make_app: AppFactory, fake: FakeTwilio
) -> None:
    app = batch_app(make_app, fake, threads=4)
    runtime = app.extensions["hotline"]
    numbers = [f"+45676000{n:02d}" for n in range(4)]
    ids = [put(app, to=to, body=f"til {to}") for to in numbers]
    claimed = send_loop.claim(runtime.sessions, runtime.settings, NOW, 10)  # claimed, then the worker died
    assert sorted(c.id for c in claimed) == sorted(ids)
    reached = claimed[:2]  # it had handed two of them to Twilio before it died
    for text in reached:
        fake.keep({"sid": "SM" + uuid.uuid4().hex}, {"To": [text.to], "From": [HOTLINE], "Body": [text.body]})
    report = send(app, timedelta(minutes=31))
    assert (report.interrupted, report.sent) == (4, 4)
    assert sorted(r.form["To"][0] for r in fake.requests if r.method == "GET") == sorted(numbers)
    posted = sorted(r.form["To"][0] for r in fake.requests if r.method == "POST")
    assert posted == sorted(c.to for c in claimed[2:])  # only the two Twilio did not have
    assert Counter(m["to"] for m in fake.messages) == Counter(numbers)  # each text once at Twilio

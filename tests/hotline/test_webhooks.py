"""Webhooks through the real app: calls and texts recorded once, status only moves forward, odd input handled."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from hotline.db.models import Call, CallEvent, Message
from tests.helpers import RELATIVE, TwilioSigner, call_params, new_sid, signer


def _calls(app: Flask) -> list[Call]:
    with app.extensions["hotline"].sessions() as session:
        return list(session.scalars(select(Call)))


def _messages(app: Flask) -> list[Message]:
    with app.extensions["hotline"].sessions() as session:
        return list(session.scalars(select(Message)))


def test_incoming_call_gets_danish_greeting_and_a_way_on(app: Flask, twilio: TwilioSigner) -> None:
    body = twilio.post("/twilio/voice", call_params()).get_data(as_text=True)
    assert 'language="da-DK"' in body
    assert "Pårørendelinjen" in body
    assert "112" in body
    # A new caller chooses a language (each choice in its own language); silence comes back to the flow.
    assert "<Gather" in body and "For dansk, tryk 1" in body and "For English, press 2" in body
    assert "/twilio/voice/step?" in body


def test_the_same_webhook_delivered_twice_records_one_call(app: Flask, twilio: TwilioSigner) -> None:
    params = call_params()
    first = twilio.post("/twilio/voice", params)
    second = twilio.post("/twilio/voice", params)
    assert first.status_code == second.status_code == 200
    assert first.get_data() == second.get_data()
    calls = _calls(app)
    assert len(calls) == 1
    assert calls[0].from_number == RELATIVE
    assert calls[0].caller_withheld is False


@pytest.mark.parametrize(
    ("raw_from", "stored", "withheld"),
    [
        ("+4567123456", "+4567123456", False),
        ("anonymous", None, True),
        ("+266696687", None, True),
        ("", None, True),
        ("client:advisor-app", "client:advisor-app", False),
    ],
)
def test_caller_numbers_are_normalised_or_marked_withheld(
    app: Flask, twilio: TwilioSigner, raw_from: str, stored: str | None, withheld: bool
) -> None:
    assert twilio.post("/twilio/voice", call_params(from_=raw_from)).status_code == 200
    (call,) = _calls(app)
    assert (call.from_number, call.caller_withheld) == (stored, withheld)


def test_call_status_only_moves_forward(app: Flask, twilio: TwilioSigner) -> None:
    sid = new_sid("CA")
    twilio.post("/twilio/voice", call_params(sid))
    for status in ("in-progress", "completed", "ringing", "in-progress", "completed"):
        assert (
            twilio.post(
                "/twilio/voice/status", call_params(sid, CallStatus=status, CallDuration="42")
            ).status_code
            == 204
        )
    (call,) = _calls(app)
    assert call.status == "completed"
    assert call.duration_seconds == 42
    assert call.ended_at is not None
    with app.extensions["hotline"].sessions() as session:
        events = session.scalars(select(CallEvent.detail).order_by(CallEvent.id)).all()
    assert events == ["in-progress", "completed", "ringing"]


def test_status_for_an_unknown_outbound_call_is_recorded(app: Flask, twilio: TwilioSigner) -> None:
    sid = new_sid("CA")
    twilio.post("/twilio/voice/status", call_params(sid, CallStatus="no-answer", Direction="outbound-api"))
    (call,) = _calls(app)
    assert (call.call_sid, call.status, call.direction) == (sid, "no-answer", "outbound-api")


def _sms(sid: str, body: str, from_: str = RELATIVE) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": from_,
        "To": "+4568000000",
        "Body": body,
        "NumMedia": "0",
    }


@pytest.mark.parametrize(
    "body",
    [
        "",
        "Hej, min mor har fået en ny medicin – hvem kan jeg tale med?",
        "x" * 1600,
        "😀🙏🏽❤️" * 100,
        "مرحبا، أحتاج إلى مساعدة بخصوص والدي",
        "<script>alert('x')</script> & <b>fed</b>",
        "line1\r\nline2\u202e\u0000end",
    ],
    ids=["empty", "danish", "1600", "emoji", "arabic-rtl", "markup", "control-chars"],
)
def test_texts_are_stored_faithfully_once(app: Flask, twilio: TwilioSigner, body: str) -> None:
    sid = new_sid("SM")
    for _ in range(2):
        response = twilio.post("/twilio/sms", _sms(sid, body))
        assert response.status_code == 200
        assert response.mimetype == "text/xml"
    (message,) = _messages(app)
    assert message.body == body.replace("\x00", "\ufffd")
    assert message.from_number == RELATIVE
    assert "<script>" not in response.get_data(as_text=True)


def test_sms_status_never_moves_backwards(app: Flask, twilio: TwilioSigner) -> None:
    sid = new_sid("SM")
    twilio.post("/twilio/sms", _sms(sid, "hej"))
    with app.extensions["hotline"].sessions.begin() as session:
        session.scalars(select(Message)).one().status = "queued"
    for status in ("sent", "delivered", "sent", "failed", "queued"):
        twilio.post("/twilio/sms/status", {"MessageSid": sid, "MessageStatus": status})
    assert _messages(app)[0].status == "delivered"


# empty_app is function-scoped, but hands each example a fresh database of its own.
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fields=st.dictionaries(
        st.sampled_from(["CallSid", "From", "To", "CallStatus", "Digits", "Direction", "Body", "MessageSid"]),
        st.text(max_size=300),
        min_size=1,  # an empty POST carries no form at all: refused with 415 (tests/hotline/test_blueprint.py)
    )
)
def test_odd_signed_requests_never_get_a_500(
    empty_app: Callable[[], AbstractContextManager[Flask]], fields: dict[str, str]
) -> None:
    with empty_app() as app:
        twilio = signer(app)
        for path in ("/twilio/voice", "/twilio/voice/status", "/twilio/sms", "/twilio/sms/status"):
            response = twilio.post(path, fields)
            assert response.status_code in (200, 204), (path, response.status_code)


def test_healthz_and_readyz_without_a_scheduler(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert "scheduler not running" in ready.get_json()["problems"][0]

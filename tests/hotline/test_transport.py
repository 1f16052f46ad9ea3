"""Outbound transports: the real twilio Client against a fake Twilio on loopback, and the offline demo."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from hotline.db.models import DemoOutbound
from hotline.transport.base import TransportError
from hotline.transport.demo import DemoTransport
from hotline.twilio.rest import TwilioTransport, make_client
from tests.fake_twilio import FakeTwilio, Reply, error

SID = "AC" + "a" * 32


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    server = FakeTwilio().start()
    yield server
    server.stop()


@pytest.fixture
def transport(fake: FakeTwilio) -> TwilioTransport:
    return TwilioTransport(make_client(SID, "token", fake.url, timeout=1.0))


def test_sms_goes_through_the_real_client_to_the_configured_base_url(
    fake: FakeTwilio, transport: TwilioTransport
) -> None:
    sent = transport.send_sms(
        to="+4567123456",
        from_="+4568000000",
        body="Hej æøå",
        status_callback="https://h.example/twilio/sms/status",
    )
    assert sent.sid.startswith("SM") and sent.status == "queued"
    (request,) = fake.requests
    assert request.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request.form["Body"] == ["Hej æøå"]
    assert request.form["StatusCallback"] == ["https://h.example/twilio/sms/status"]
    assert request.authorization.startswith("Basic ")


def test_call_goes_through_the_real_client(fake: FakeTwilio, transport: TwilioTransport) -> None:
    placed = transport.place_call(
        to="+4568111111",
        from_="+4568000000",
        url="https://h.example/twilio/x",
        status_callback="https://h.example/twilio/voice/status",
        timeout_seconds=25,
    )
    assert placed.sid.startswith("CA")
    (request,) = fake.requests
    assert request.path.endswith("/Calls.json")
    assert request.form["Timeout"] == ["25"]
    assert request.form["StatusCallbackEvent"] == ["answered", "completed"]


@pytest.mark.parametrize(
    ("reply", "permanent", "code"),
    [
        (error(400, 21610, "unsubscribed"), True, "21610"),
        (error(400, 21614, "not a mobile"), True, "21614"),
        (error(400, 21211, "invalid To"), True, "21211"),
        (error(500, 20500, "internal"), False, "20500"),
        (error(429, 20429, "too many"), False, "20429"),
        (Reply(status=200, delay=2.5), False, "timeout"),
    ],
    ids=["opted-out", "landline", "invalid", "5xx", "429", "timeout"],
)
def test_twilio_errors_become_transport_errors(
    fake: FakeTwilio, transport: TwilioTransport, reply: Reply, permanent: bool, code: str
) -> None:
    fake.script.append(reply)
    with pytest.raises(TransportError) as caught:
        transport.send_sms(to="+4567123456", from_="+4568000000", body="x", status_callback=None)
    assert (caught.value.permanent, caught.value.code) == (permanent, code)
    assert "4567123456" not in caught.value.message  # safe to show and log: the number is masked


def test_unreachable_twilio_is_a_transient_error() -> None:
    transport = TwilioTransport(make_client(SID, "token", "http://127.0.0.1:1", timeout=1.0))
    with pytest.raises(TransportError) as caught:
        transport.send_sms(to="+4567123456", from_="+4568000000", body="x", status_callback=None)
    assert (caught.value.permanent, caught.value.code) == (False, "network")


def test_demo_transport_records_and_never_sends(app: Flask) -> None:
    runtime = app.extensions["hotline"]
    assert isinstance(runtime.transport.inner, DemoTransport)
    sent = runtime.transport.send_sms(
        to="+4567123456", from_="+4568000000", body="Vi ringer i aften", status_callback=None
    )
    placed = runtime.transport.place_call(
        to="+4568111111", from_="+4568000000", url="/x", status_callback=None
    )
    with runtime.sessions() as session:
        rows = session.scalars(select(DemoOutbound).order_by(DemoOutbound.id)).all()
    assert [(r.kind, r.sid, r.to_number, r.body) for r in rows] == [
        ("sms", sent.sid, "+4567123456", "Vi ringer i aften"),
        ("call", placed.sid, "+4568111111", None),
    ]


def test_live_mode_uses_twilio_and_the_auth_token_as_signing_secret(settings_mapping: dict[str, str]) -> None:
    from hotline.app import create_app

    application = create_app(
        {
            **settings_mapping,
            "TWILIO_ACCOUNT_SID": SID,
            "TWILIO_AUTH_TOKEN": "tok",
            "HOTLINE_SECRET_KEY": "9f0c2b7e4d1a6358" * 4,
            "HOTLINE_PUBLIC_URL": "https://h.example",
        }
    )
    runtime = application.extensions["hotline"]
    assert isinstance(runtime.transport.inner, TwilioTransport)
    assert runtime.signing_secret == "tok"
    assert not (runtime.settings.instance_path / "demo_signing_secret").exists()


@pytest.mark.parametrize(
    ("to", "code"),
    [
        ("+4590000000", "guard:premium_rate"),
        ("+46700000000", "guard:country_not_allowed"),
        ("anonymous", "guard:withheld"),
        ("112", "guard:emergency"),
    ],
)
def test_every_outbound_send_passes_the_toll_fraud_guard(app: Flask, to: str, code: str) -> None:
    runtime = app.extensions["hotline"]
    with pytest.raises(TransportError) as caught:
        runtime.transport.send_sms(to=to, from_="+4568000000", body="x", status_callback=None)
    assert caught.value.code == code and caught.value.permanent
    with pytest.raises(TransportError):
        runtime.transport.place_call(to=to, from_="+4568000000", url="/x", status_callback=None)
    with runtime.sessions() as session:
        assert session.scalars(select(DemoOutbound)).all() == []

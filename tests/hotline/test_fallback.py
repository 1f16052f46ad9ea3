"""Always an answer: the fallback needs no database, and a failing database never gives a caller a 500."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from hotline.app import create_app
from hotline.db.models import CallbackRequest, Message, Recording
from hotline.jobs import backlog
from hotline.services import spool
from tests.helpers import TwilioSigner, call_params, new_sid

# A database that does not exist: nothing listens on port 1.
UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"


@pytest.fixture
def broken_app(settings_mapping: dict[str, Any]) -> Flask:
    return create_app({**settings_mapping, "HOTLINE_DATABASE_URL": UNREACHABLE})


@pytest.fixture
def broken_twilio(broken_app: Flask) -> TwilioSigner:
    return TwilioSigner(broken_app.test_client(), broken_app.extensions["hotline"].signing_secret)


def _assert_fallback(body: str) -> None:
    assert "tekniske problemer" in body  # Danish
    assert "technical problems" in body  # English
    assert "112" in body and "1 1 2" in body
    assert 'language="da-DK"' in body and 'language="en-GB"' in body


def test_fallback_answers_without_a_database(broken_twilio: TwilioSigner) -> None:
    response = broken_twilio.post("/twilio/voice/fallback", call_params(ErrorCode="11200"))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    _assert_fallback(body)
    assert "<Record" in body and "/twilio/voice/fallback/recording" in body


def test_voice_webhook_with_the_database_down_gives_the_fallback_not_a_500(
    broken_twilio: TwilioSigner,
) -> None:
    response = broken_twilio.post("/twilio/voice", call_params())
    assert response.status_code == 200
    _assert_fallback(response.get_data(as_text=True))


def test_fallback_dials_the_configured_number(settings_mapping: dict[str, Any]) -> None:
    config = {**settings_mapping["config"], "service": {"fallback_number": "+45 68 99 00 00"}}
    application = create_app({**settings_mapping, "HOTLINE_DATABASE_URL": UNREACHABLE, "config": config})
    twilio = TwilioSigner(application.test_client(), application.extensions["hotline"].signing_secret)
    body = twilio.post("/twilio/voice/fallback", call_params()).get_data(as_text=True)
    assert "<Dial" in body and "+4568990000</Dial>" in body
    assert "/twilio/voice/fallback/after-dial" in body
    # Nobody answers at the fallback number: a voicemail, not a dead end.
    after = twilio.post("/twilio/voice/fallback/after-dial", call_params(DialCallStatus="no-answer"))
    assert "<Record" in after.get_data(as_text=True)
    done = twilio.post("/twilio/voice/fallback/after-dial", call_params(DialCallStatus="completed"))
    assert "<Hangup" in done.get_data(as_text=True)


def test_voicemail_spooled_without_database_is_imported_once_later(
    broken_app: Flask, broken_twilio: TwilioSigner, app: Flask
) -> None:
    recording = {
        **call_params(),
        "RecordingSid": new_sid("RE"),
        "RecordingUrl": "https://api.twilio.com/rec/1",
        "RecordingDuration": "37",
    }
    for _ in range(2):  # Twilio retries: still one file, one row
        response = broken_twilio.post("/twilio/voice/fallback/recording", recording)
        assert response.status_code == 200
        assert "Farvel" in response.get_data(as_text=True)
    instance: Path = broken_app.extensions["hotline"].settings.instance_path
    assert spool.pending(instance) == 1
    files = list((instance / "spool" / "recordings").glob("*.json"))
    assert oct(files[0].stat().st_mode & 0o777) == "0o600"

    # The database is back (the healthy app shares the instance folder).
    runtime = app.extensions["hotline"]
    assert spool.import_spool(instance, runtime.sessions) == 1
    assert spool.import_spool(instance, runtime.sessions) == 0
    with runtime.sessions() as session:
        (row,) = session.scalars(select(Recording)).all()
    assert (row.recording_sid, row.duration_seconds, row.from_number, row.source) == (
        recording["RecordingSid"],
        37,
        "+4567123456",
        "fallback",
    )


def test_text_arriving_while_database_is_down_is_spooled_then_imported(
    broken_app: Flask, broken_twilio: TwilioSigner, app: Flask
) -> None:
    sid = new_sid("SM")
    response = broken_twilio.post(
        "/twilio/sms",
        {"MessageSid": sid, "From": "+4567123456", "To": "+4568000000", "Body": "Ring mig i aften 🙏"},
    )
    assert response.status_code == 200
    instance = broken_app.extensions["hotline"].settings.instance_path
    runtime = app.extensions["hotline"]
    assert spool.import_spool(instance, runtime.sessions) == 1
    with runtime.sessions() as session:
        (message,) = session.scalars(select(Message)).all()
    assert (message.message_sid, message.body) == (sid, "Ring mig i aften 🙏")


def test_readyz_reports_an_unreachable_database(broken_app: Flask) -> None:
    response = broken_app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["problems"][0].startswith("database unreachable")
    assert broken_app.test_client().get("/healthz").status_code == 200


def _spool_voicemails(instance: Path, count: int, first: dict[str, str | None]) -> list[str]:
    sids = sorted(new_sid("RE") for _ in range(count))
    for index, sid in enumerate(sids):
        fields = {
            "RecordingSid": sid,
            "RecordingUrl": "https://api.twilio.com/rec/x",
            "RecordingDuration": "12",
        }
        fields.update({"CallSid": new_sid("CA"), "From": "+4567123456", "To": "+4568000000"})
        if index == 0:  # the first in file order is the odd one
            fields = {k: v for k, v in {**fields, **first}.items() if v is not None}
        spool.write(instance, "recordings", sid, fields)
    return sids


@pytest.mark.parametrize("duration", ["²", "12.5", ""], ids=["superscript", "decimal", "empty"])
def test_a_spooled_voicemail_with_an_odd_duration_is_imported_without_one(app: Flask, duration: str) -> None:
    """str.isdigit() says yes to "²" and int() says no: the voicemail is kept, its length unknown."""
    runtime = app.extensions["hotline"]
    instance: Path = runtime.settings.instance_path
    sids = _spool_voicemails(instance, 2, {"RecordingDuration": duration})
    assert spool.import_spool(instance, runtime.sessions) == 2
    with runtime.sessions() as session:
        rows = session.execute(select(Recording.recording_sid, Recording.duration_seconds)).all()
    assert sorted(tuple(row) for row in rows) == [(sids[0], None), (sids[1], 12)]


def test_one_malformed_spool_file_is_set_aside_and_the_rest_imported(app: Flask) -> None:
    """A spooled file that cannot be imported (no SID; not JSON) is moved out of the way with a log line; the
    voicemails after it are imported, and the next run does not trip over it again."""
    runtime = app.extensions["hotline"]
    instance: Path = runtime.settings.instance_path
    sids = _spool_voicemails(instance, 3, {"RecordingSid": None})
    broken = instance / "spool" / "recordings" / "RE00000000000000000000000000000000.json"
    broken.write_bytes(b'{"RecordingSid": "RE0\xff')
    assert spool.import_spool(instance, runtime.sessions) == 2
    assert spool.import_spool(instance, runtime.sessions) == 0
    assert spool.pending(instance) == 0
    rejected = sorted(p.name for p in (instance / "spool" / "recordings" / "rejected").iterdir())
    assert rejected == sorted([broken.name, f"{sids[0]}.json"])
    with runtime.sessions() as session:
        assert sorted(session.scalars(select(Recording.recording_sid))) == sids[1:]


def test_the_fallback_answer_never_dials_a_number_the_guard_refuses(app: Flask) -> None:
    """Configuration refuses such a fallback number already; the answer that needs nothing else checks too."""
    from hotline.twilio.fallback import fallback_response

    runtime = app.extensions["hotline"]
    settings = runtime.settings
    service = settings.file.service.model_copy(update={"fallback_number": "+4590123456"})
    bad = settings.model_copy(update={"file": settings.file.model_copy(update={"service": service})})
    body = str(fallback_response(bad, runtime.prompts, runtime.languages))
    assert "<Dial" not in body and "<Record" in body


def test_voicemails_the_fallback_took_are_filed_in_the_callback_queue_once(
    broken_app: Flask, broken_twilio: TwilioSigner, app: Flask
) -> None:
    """Every voicemail is a task in the queue, also one taken while the database was down: a callback for a
    number we may call, a task without a number for a withheld caller."""
    for caller in ("+4567123456", "anonymous"):
        broken_twilio.post(
            "/twilio/voice/fallback/recording",
            {**call_params(from_=caller), "RecordingSid": new_sid("RE"), "RecordingDuration": "12"},
        )
    instance: Path = broken_app.extensions["hotline"].settings.instance_path
    runtime = app.extensions["hotline"]
    assert spool.import_spool(instance, runtime.sessions) == 2
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 10:00 in Copenhagen
    assert backlog.file_voicemails(runtime, now) == 2
    assert backlog.file_voicemails(runtime, now) == 0  # the next run files nothing twice
    with runtime.sessions() as session:
        recordings = {r.from_number: r.recording_sid for r in session.scalars(select(Recording))}
        queued = {c.phone_number: c for c in session.scalars(select(CallbackRequest))}
    assert set(queued) == {"+4567123456", None}
    assert all(c.reason == "voicemail" and c.state == "scheduled" for c in queued.values())
    assert {n: c.recording_sid for n, c in queued.items()} == recordings


@pytest.mark.parametrize("from_", ["anonymous", "+266696687"], ids=["anonymous", "restricted"])
def test_the_fallback_promises_no_call_back_to_a_caller_whose_number_is_hidden(
    broken_twilio: TwilioSigner, from_: str
) -> None:
    """The message of a caller with a withheld number is a task staff listen to, with no number to dial: the
    fallback says so before the tone and after it, in both its languages, instead of "vi ringer dig op"."""
    answer = broken_twilio.post("/twilio/voice", call_params(from_=from_)).get_data(as_text=True)
    _assert_fallback(answer)
    assert "Vi kan ikke se dit nummer" in answer and "ringer dig op" not in answer
    assert "We cannot see your number, so we cannot call you back" in answer
    recording = {**call_params(from_=from_), "RecordingSid": new_sid("RE"), "RecordingDuration": "9"}
    saved = broken_twilio.post("/twilio/voice/fallback/recording", recording).get_data(as_text=True)
    assert "fordi dit nummer er skjult" in saved and "ringer dig op så snart" not in saved
    visible = broken_twilio.post("/twilio/voice/fallback/recording", {**recording, "From": "+4567123456"})
    assert "ringer dig op så snart vi kan" in visible.get_data(as_text=True)

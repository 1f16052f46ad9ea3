"""Logs never carry a full phone number or a message body."""

from __future__ import annotations

import json
import logging

import pytest
from flask import Flask
from sqlalchemy import text

from hotline.logs import JsonFormatter, scrub
from tests.helpers import TwilioSigner, call_params, new_sid


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("from +4567123456", "from +45 67 12 ** **"),
        ("to 67 12 34 56 now", "to +45 67 12 ** ** now"),
        ("at 2026-10-25T02:30:00+02:00 pid 4242", "at 2026-10-25T02:30:00+02:00 pid 4242"),
        ("CA0123456789abcdef", "CA0123456789abcdef"),
    ],
)
def test_scrub(text: str, expected: str) -> None:
    assert scrub(text) == expected


def test_webhook_logs_are_json_masked_and_without_bodies(
    app: Flask, twilio: TwilioSigner, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    twilio.post("/twilio/voice", call_params(from_="+4567123456"))
    twilio.post(
        "/twilio/sms",
        {
            "MessageSid": new_sid("SM"),
            "From": "+4567123499",
            "To": "+4568000000",
            "Body": "Min far er faldet",
        },
    )
    lines = [JsonFormatter().format(record) for record in caplog.records]
    text = "\n".join(lines)
    assert "4567123456" not in text and "4567123499" not in text
    assert "Min far er faldet" not in text
    events = [json.loads(line) for line in lines]
    assert {"event": "incoming call", "from": "+45 67 12 ** **"}.items() <= next(
        e for e in events if e["event"] == "incoming call"
    ).items()


def test_a_database_error_never_writes_the_message_body_to_the_log(
    app: Flask, twilio: TwilioSigner, caplog: pytest.LogCaptureFixture
) -> None:
    """SQLAlchemy puts a failed statement's parameters in the error text; with them hidden, a text whose storing
    fails (here: its table is gone) is spooled, and neither its words nor its number reach any log line."""
    caplog.set_level(logging.DEBUG)
    marker = "Markør-7f3a9c unik tekst fra en pårørende"
    runtime = app.extensions["hotline"]
    with runtime.engine.begin() as connection:
        connection.execute(text("ALTER TABLE messages RENAME TO messages_away"))
    try:
        response = twilio.post(
            "/twilio/sms",
            {"MessageSid": new_sid("SM"), "From": "+4567123499", "To": "+4568000000", "Body": marker},
        )
    finally:
        runtime.dispose()  # the failed transaction's connection is not reused
        with runtime.engine.begin() as connection:
            connection.execute(text("ALTER TABLE messages_away RENAME TO messages"))
    assert response.status_code == 200
    failures = [r for r in caplog.records if r.exc_info]
    assert failures, "the database failure is logged"
    lines = [JsonFormatter().format(record) for record in caplog.records] + [caplog.text]
    assert not [line for line in lines if "Markør-7f3a9c" in line or "4567123499" in line]
    assert "parameters hidden" in caplog.text  # the statement is still named, without its values

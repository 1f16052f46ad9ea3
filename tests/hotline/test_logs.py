"""Logs never carry a full phone number or a message body."""

from __future__ import annotations

import json
import logging

import pytest
from flask import Flask

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

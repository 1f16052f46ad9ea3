"""Only Twilio drives the webhooks: signatures are checked on every request, in demo mode and in tests."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from hotline.app import create_app
from hotline.db.models import Call, CallEvent, Message
from tests.helpers import TwilioSigner, call_params, new_sid, sign


def _rows(app: Flask) -> int:
    with app.extensions["hotline"].sessions() as session:
        return sum(
            session.scalar(select(func.count()).select_from(m)) or 0 for m in (Call, CallEvent, Message)
        )


def test_valid_signature_is_accepted_and_recorded(app: Flask, twilio: TwilioSigner) -> None:
    response = twilio.post("/twilio/voice", call_params())
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert _rows(app) == 1


def _tamper(case: str, params: dict[str, str], secret: str) -> tuple[dict[str, str], dict[str, str], str]:
    """Return (params sent, headers, path) for each way a request can fail validation."""
    url = "http://localhost/twilio/voice"
    good = sign(secret, url, params)
    if case == "missing":
        return params, {}, "/twilio/voice"
    if case == "wrong_token":
        return params, {"X-Twilio-Signature": sign("not-the-secret", url, params)}, "/twilio/voice"
    if case == "tampered_parameter":
        return {**params, "From": "+4567999999"}, {"X-Twilio-Signature": good}, "/twilio/voice"
    if case == "added_parameter":
        return {**params, "Digits": "1"}, {"X-Twilio-Signature": good}, "/twilio/voice"
    if case == "wrong_host":
        other = sign(secret, "http://evil.example/twilio/voice", params)
        return params, {"X-Twilio-Signature": other}, "/twilio/voice"
    if case == "wrong_path":
        return (
            params,
            {"X-Twilio-Signature": sign(secret, "http://localhost/twilio/sms", params)},
            "/twilio/voice",
        )
    if case == "garbage":
        return params, {"X-Twilio-Signature": "%%%not-base64"}, "/twilio/voice"
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "wrong_token",
        "tampered_parameter",
        "added_parameter",
        "wrong_host",
        "wrong_path",
        "garbage",
    ],
)
def test_bad_signatures_get_403_and_write_nothing(app: Flask, client: FlaskClient, case: str) -> None:
    secret = app.extensions["hotline"].signing_secret
    params, headers, path = _tamper(case, call_params(), secret)
    response = client.post(path, data=params, headers=headers)
    assert response.status_code == 403
    assert _rows(app) == 0


@pytest.mark.parametrize(
    "path",
    [
        "/twilio/voice",
        "/twilio/voice/status",
        "/twilio/voice/fallback",
        "/twilio/voice/fallback/after-dial",
        "/twilio/voice/fallback/recording",
        "/twilio/sms",
        "/twilio/sms/status",
    ],
)
def test_every_twilio_path_requires_a_signature(app: Flask, client: FlaskClient, path: str) -> None:
    response = client.post(path, data=call_params(RecordingSid=new_sid("RE"), MessageSid=new_sid("SM")))
    assert response.status_code == 403
    assert _rows(app) == 0
    assert not (app.extensions["hotline"].settings.instance_path / "spool").exists()


def test_sha256_signature_announced_by_header_is_accepted(app: Flask, client: FlaskClient) -> None:
    from twilio.request_validator import RequestValidator

    secret = app.extensions["hotline"].signing_secret
    params = call_params()
    signature = RequestValidator(secret).compute_signature(
        "http://localhost/twilio/voice", params, algorithm="HMAC_SHA256"
    )
    headers = {
        "X-Twilio-Signature": signature,
        "X-Twilio-Webhooks-Signature-Settings": "algorithm=HMAC_SHA256",
    }
    assert client.post("/twilio/voice", data=params, headers=headers).status_code == 200
    # The same SHA-256 signature without the header is checked as SHA-1 and refused.
    assert (
        client.post("/twilio/voice", data=params, headers={"X-Twilio-Signature": signature}).status_code
        == 403
    )


def _proxied_app(settings_mapping: dict[str, Any], hops: int, public_url: str | None = None) -> Flask:
    mapping = {**settings_mapping, "config": {**settings_mapping["config"], "web": {"trusted_proxies": hops}}}
    if public_url:
        mapping["HOTLINE_PUBLIC_URL"] = public_url
    return create_app(mapping)


@pytest.mark.parametrize(
    ("hops", "public_url", "signed_for", "expected"),
    [
        # Behind one trusted proxy, Twilio signed the https URL it called; ProxyFix restores it.
        (1, None, "https://hotline.example/twilio/voice", 200),
        # The same request with no trusted proxy: the app sees http://localhost and refuses.
        (0, None, "https://hotline.example/twilio/voice", 403),
        # With HOTLINE_PUBLIC_URL the proxy headers do not matter.
        (0, "https://hotline.example", "https://hotline.example/twilio/voice", 200),
        (0, "https://hotline.example", "http://localhost/twilio/voice", 403),
        # A trusted proxy cannot be talked into another host than the one signed.
        (1, None, "https://attacker.example/twilio/voice", 403),
    ],
)
def test_https_behind_proxy(
    settings_mapping: dict[str, Any], hops: int, public_url: str | None, signed_for: str, expected: int
) -> None:
    application = _proxied_app(settings_mapping, hops, public_url)
    secret = application.extensions["hotline"].signing_secret
    params = call_params()
    headers = {
        "X-Twilio-Signature": sign(secret, signed_for, params),
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "hotline.example",
        "X-Forwarded-For": "203.0.113.7",
    }
    response = application.test_client().post("/twilio/voice", data=params, headers=headers)
    assert response.status_code == expected
    assert _rows(application) == (1 if expected == 200 else 0)
    application.extensions["hotline"].dispose()

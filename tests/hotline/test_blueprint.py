"""The door to /twilio/: what Twilio never sends is refused with a 4xx before any parsing or work, and the
webhooks behind it never answer with a 500."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from hotline.db.models import Call, Message
from hotline.twilio.blueprint import MAX_BODY_BYTES, MAX_FIELDS
from tests.helpers import TwilioSigner, call_params, new_sid, sign

FORM = "application/x-www-form-urlencoded"


def _count(app: Flask, model: type[Call] | type[Message]) -> int:
    with app.extensions["hotline"].sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _signed_raw(app: Flask, client: FlaskClient, path: str, body: bytes, content_type: str, **environ: str):  # type: ignore[no-untyped-def]
    """POST `body` as is, signed for the URL alone (what Twilio's validator checks when it sees no form)."""
    secret = app.extensions["hotline"].signing_secret
    builder = EnvironBuilder(
        path=path,
        method="POST",
        data=body,
        content_type=content_type,
        headers={"X-Twilio-Signature": sign(secret, f"http://localhost{path}", {})},
    )
    env = builder.get_environ()
    env.update(environ)
    return client.open(Request(env))  # as is: a plain environ would be rebuilt, Content-Length and all


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data; boundary=xyz", b'--xyz\r\nContent-Disposition: form-data; name="CallSid"\r\n\r\nCA'
         + b"1" * 32 + b"\r\n--xyz--\r\n"),
        ("application/json", b'{"CallSid": "CA' + b"1" * 32 + b'"}'),
        ("text/plain", b"CallSid=CA" + b"1" * 32),
    ],
    ids=["multipart", "json", "text"],
)  # fmt: skip
def test_only_form_posts_get_in(app: Flask, client: FlaskClient, content_type: str, body: bytes) -> None:
    """A multipart body's fields are not covered by Twilio's signature (only the URL is): refused, not parsed."""
    response = _signed_raw(app, client, "/twilio/voice", body, content_type)
    assert response.status_code == 415
    assert _count(app, Call) == 0


def test_a_huge_form_is_refused_before_it_is_parsed(app: Flask, twilio: TwilioSigner) -> None:
    params = {**call_params(), **{f"f{i}": "1" for i in range(44_000)}}  # about 300 KB
    response = twilio.post("/twilio/voice", params)
    assert response.status_code == 413
    assert _count(app, Call) == 0


def test_too_many_fields_in_a_small_body_are_refused(app: Flask, twilio: TwilioSigner) -> None:
    params = {**call_params(), **{f"x{i}": "" for i in range(MAX_FIELDS)}}
    assert len(urlencode(params)) < MAX_BODY_BYTES
    assert twilio.post("/twilio/sms", params).status_code == 413
    assert _count(app, Message) == 0


def test_a_real_text_with_ten_pictures_gets_through(app: Flask, twilio: TwilioSigner) -> None:
    """The limits leave room for Twilio's largest real requests: a 1,600-character text with ten pictures."""
    media = {
        f"MediaUrl{i}": f"https://api.twilio.com/2010-04-01/Accounts/AC{'0' * 32}/Messages/MM{'1' * 32}/Media/ME{i:032d}"
        for i in range(10)
    }
    media |= {f"MediaContentType{i}": "image/jpeg" for i in range(10)}
    params = {"MessageSid": new_sid("MM"), "From": "+4567123456", "To": "+4568000000", "Body": "æøå " * 400,
              "NumMedia": "10", "NumSegments": "11", "SmsStatus": "received", "ApiVersion": "2010-04-01",
              "AccountSid": "AC" + "0" * 32, **media}  # fmt: skip
    assert twilio.post("/twilio/sms", params).status_code == 200
    assert _count(app, Message) == 1


def test_a_truncated_body_is_a_400_not_a_500(app: Flask, client: FlaskClient) -> None:
    """Content-Length promises more than arrives (a client that hung up): 400, and nothing is recorded. The error
    answers used to read the form again and fail with a 500."""
    body = urlencode(call_params()).encode()
    response = _signed_raw(app, client, "/twilio/voice", body, FORM, CONTENT_LENGTH=str(len(body) + 500))
    assert response.status_code == 400
    assert _count(app, Call) == 0


def test_raw_bytes_that_are_no_urlencoded_form_are_a_400(app: Flask, client: FlaskClient) -> None:
    response = _signed_raw(app, client, "/twilio/sms", b"Body=\xff\xfe&From=%2B4567123456", FORM)
    assert response.status_code == 400
    assert _count(app, Message) == 0


def test_a_webhook_is_a_post(app: Flask, client: FlaskClient) -> None:
    assert client.get("/twilio/voice").status_code == 405


def test_a_sid_with_a_trailing_newline_is_not_a_sid(app: Flask, twilio: TwilioSigner) -> None:
    """SIDs are matched whole: `^...$` let "CA…\\n" through into the database."""
    response = twilio.post("/twilio/voice", call_params("CA" + "2" * 32 + "\n"))
    assert response.status_code == 200 and b"<Say" in response.data  # the caller still hears the fallback
    assert _count(app, Call) == 0


def test_a_signed_call_sent_in_chunks_is_answered(app: Flask, client: FlaskClient) -> None:
    """A proxy may forward Twilio's request chunked, without Content-Length (gunicorn marks the body complete
    with wsgi.input_terminated): it is read, measured and answered like any other, not refused."""
    params = call_params()
    secret = app.extensions["hotline"].signing_secret
    builder = EnvironBuilder(
        path="/twilio/voice",
        method="POST",
        data=urlencode(params).encode(),
        content_type=FORM,
        headers={"X-Twilio-Signature": sign(secret, "http://localhost/twilio/voice", params)},
    )
    env = builder.get_environ()
    del env["CONTENT_LENGTH"]
    env["wsgi.input_terminated"] = True
    response = client.open(Request(env))
    assert response.status_code == 200 and b"<Gather" in response.data
    assert _count(app, Call) == 1

"""The door Twilio comes in by: one blueprint, /twilio, whose `before_request` checks X-Twilio-Signature on every
request under it (an unsigned or wrongly signed one gets 403 and touches nothing), with one child blueprint per
kind of conversation. Each child answers its own failures (hotline.twilio.answers), so nothing under /twilio/
answers Twilio with a 500:

| child                                 | paths                                                | on failure       |
| ------------------------------------- | ---------------------------------------------------- | ---------------- |
| voice, flow, dialing                  | /voice, /voice/fallback…, /voice/step, /voice/connect…, /voice/whisper… | the fallback answer |
| callback_calls                        | /callback/advisor…, /callback/relative, /callback/result | the fallback answer |
| messaging                             | /sms                                                 | spooled to disk  |
| status                                | /voice/status, /voice/advisor-status, /callback/advisor-status, /sms/status | an empty 204 |
"""

from __future__ import annotations

import logging
from typing import NoReturn

from flask import Blueprint, abort, request
from werkzeug.exceptions import ClientDisconnected

from hotline.twilio import callback_calls, dialing, flow, messaging, status, voice
from hotline.twilio.signature import is_valid
from hotline.web import current_runtime

log = logging.getLogger(__name__)

bp = Blueprint("twilio", __name__, url_prefix="/twilio")
for child in (voice.bp, flow.bp, dialing.bp, callback_calls.bp, messaging.bp, status.bp):
    bp.register_blueprint(child)


# Twilio's own requests are small forms: a call webhook has about 30 fields, a text with ten pictures about 60,
# and a text's body is at most 1,600 characters. Anything much larger is refused before it is parsed.
MAX_BODY_BYTES = 32 * 1024
MAX_FIELDS = 200
FORM = "application/x-www-form-urlencoded"


@bp.before_request
def refuse_what_twilio_never_sends() -> None:
    """Cheap checks before any parsing or work: only Twilio's kind of request gets further. A form POST (else
    415) of a sane size (else 413), complete (else 400), with a sane number of fields (else 413).

    A body sent in chunks (no Content-Length: a proxy may forward Twilio's request so) is read up to Flask's
    MAX_CONTENT_LENGTH and then measured."""
    if request.mimetype != FORM:
        _refuse(415, "not a form post")
    length = request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        _refuse(413, "too large", length=length)
    try:
        body = request.get_data(cache=True)  # read once; request.form parses this copy
    except ClientDisconnected:
        _refuse(400, "body shorter than its Content-Length", length=length)
    if len(body) > MAX_BODY_BYTES:
        _refuse(413, "too large", length=len(body))
    if body.count(b"&") >= MAX_FIELDS:
        _refuse(413, "too many fields", length=length)
    try:
        body.decode("ascii")  # a urlencoded form is ASCII; its values are percent-encoded UTF-8
    except UnicodeDecodeError:
        _refuse(400, "not a urlencoded form", length=length)


def _refuse(code: int, why: str, **detail: object) -> NoReturn:
    log.warning("webhook refused: %s", why, extra={"path": request.path, "status": code, **detail})
    abort(code)


@bp.before_request
def check_signature() -> None:
    """Only Twilio drives the webhooks: refuse a request without a valid signature before any work."""
    runtime = current_runtime()
    if not is_valid(request, runtime.signing_secret, runtime.settings.public_url):
        log.warning(
            "webhook refused: bad or missing signature",
            extra={
                "path": request.path,
                "remote": request.remote_addr,
                "has_signature": "X-Twilio-Signature" in request.headers,
            },
        )
        abort(403)

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

from flask import Blueprint, abort, request

from hotline.twilio import callback_calls, dialing, flow, messaging, status, voice
from hotline.twilio.signature import is_valid
from hotline.web import current_runtime

log = logging.getLogger(__name__)

bp = Blueprint("twilio", __name__, url_prefix="/twilio")
for child in (voice.bp, flow.bp, dialing.bp, callback_calls.bp, messaging.bp, status.bp):
    bp.register_blueprint(child)


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

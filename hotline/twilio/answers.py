"""What Twilio gets when a webhook fails: never a 500. A caller hears the fallback answer (no database needed), an
incoming text is spooled to disk and handled later, a status callback gets an empty 204. Refusals (no signature,
no such path or method, a body too large) stay refusals.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Response, jsonify, request
from twilio.twiml.messaging_response import MessagingResponse
from werkzeug.exceptions import HTTPException

from hotline import metrics
from hotline.services import spool
from hotline.twilio.fallback import fallback_response
from hotline.twilio.form import sid
from hotline.web import current_runtime, twiml
from routing.numbers import is_withheld

log = logging.getLogger(__name__)

# Refusals are the answer itself: malformed, unsigned, no such path or method, too large, not a form.
REFUSALS = (400, 403, 404, 405, 413, 415)
Handler = Callable[[Exception], "Response | tuple[Response, int]"]


def fallback() -> Response:
    """The no-database answer, also used when something fails while answering a call."""
    runtime = current_runtime()
    metrics.fallback_answered(request.url_rule.rule if request.url_rule else "unrouted")
    base = runtime.settings.twiml_url("")
    withheld = is_withheld(request.form.get("From"))
    return twiml(fallback_response(runtime.settings, runtime.prompts, runtime.languages, base, withheld))


def voice_error_answer(error: Exception) -> Response:
    """The error answer of every voice webhook: log it, answer the caller anyway."""
    log.error(
        "voice webhook failed; fallback answer given",
        exc_info=error,
        extra={"path": request.path, "call_sid": request.form.get("CallSid", "")[:64]},
    )
    return fallback()


def sms_error_answer(error: Exception) -> Response:
    """The error answer of the incoming-text webhook: the text goes to the spool (imported and handled later),
    Twilio gets empty TwiML, never a 500."""
    log.error("sms webhook failed; spooled if possible", exc_info=error, extra={"path": request.path})
    message_sid = sid("MessageSid") or sid("SmsSid")
    if message_sid:
        spool.write(
            current_runtime().settings.instance_path,
            "messages",
            message_sid,
            {k: request.form.get(k, "") for k in ("MessageSid", "From", "To", "Body")},
        )
    return twiml(MessagingResponse())


def status_error_answer(error: Exception) -> Response:
    """The error answer of every status callback: logged; Twilio gets an empty 204, never a 500."""
    log.error("status callback failed", exc_info=error, extra={"path": request.path})
    return Response(status=204)


def _unless_refused(answer: Callable[[Exception], Response]) -> Handler:
    def handler(error: Exception) -> Response | tuple[Response, int]:
        if isinstance(error, HTTPException) and error.code in REFUSALS:
            return jsonify(error=error.name, status=error.code), error.code
        return answer(error)

    return handler


# The error handlers the /twilio blueprints register.
voice_error = _unless_refused(voice_error_answer)
sms_error = _unless_refused(sms_error_answer)
status_error = _unless_refused(status_error_answer)

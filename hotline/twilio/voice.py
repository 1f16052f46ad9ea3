"""Incoming calls: the call is recorded once per CallSid and the call flow starts; the fallback answer (no
database needed) for Twilio's Fallback URL, its follow-ups, and every failure while answering a call.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request
from sqlalchemy.exc import SQLAlchemyError

from hotline.services import relatives, spool
from hotline.services.calls import InboundCall, insert_call
from hotline.twilio import answers
from hotline.twilio.fallback import after_dial_response, recording_saved_response
from hotline.twilio.flow import start_call
from hotline.twilio.form import sid
from hotline.web import current_runtime, twiml
from routing.numbers import is_withheld, mask_number

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__, url_prefix="/voice")
bp.register_error_handler(Exception, answers.voice_error)


@bp.post("")
def voice() -> Response:
    runtime = current_runtime()
    call_sid = sid("CallSid")
    if call_sid is None:
        log.warning("voice webhook without a CallSid; answering with the fallback")
        return answers.fallback()
    incoming = InboundCall(
        call_sid=call_sid,
        from_raw=request.form.get("From"),
        to_raw=request.form.get("To"),
        status=request.form.get("CallStatus", "ringing"),
        direction=request.form.get("Direction", "inbound"),
    )
    try:
        # One short transaction of two statements on a plain connection (nothing here needs the ORM): the call
        # row (insert-or-ignore), then the caller's remembered language. The roster, coverage and callbacks are
        # read later, by the steps that need them.
        with runtime.engine.begin() as connection:
            created = insert_call(connection, incoming)
            remembered = relatives.remembered_language(connection, incoming.from_number)
        log.info(
            "incoming call" if created else "incoming call retried by Twilio",
            extra={"call_sid": call_sid, "from": incoming.masked_from},
        )
        return start_call(runtime, incoming, remembered)
    except SQLAlchemyError:
        log.exception(
            "database failed while answering a call; fallback answer given", extra={"call_sid": call_sid}
        )
        return answers.fallback()


@bp.post("/fallback")
def voice_fallback() -> Response:
    log.warning(
        "fallback URL answered a call",
        extra={
            "call_sid": request.form.get("CallSid", "")[:64],
            "error_code": request.form.get("ErrorCode", ""),
        },
    )
    return answers.fallback()


@bp.post("/fallback/after-dial")
def voice_fallback_after_dial() -> Response:
    runtime = current_runtime()
    status = request.form.get("DialCallStatus", "")
    withheld = is_withheld(request.form.get("From"))
    return twiml(
        after_dial_response(
            runtime.prompts, runtime.languages, status, runtime.settings.twiml_url(""), withheld
        )
    )


@bp.post("/fallback/recording")
def voice_fallback_recording() -> Response:
    """Spool the voicemail's reference to disk (no database needed); the scheduler imports it later."""
    runtime = current_runtime()
    recording_sid = sid("RecordingSid")
    if recording_sid is not None:
        fields = {
            k: request.form.get(k, "")
            for k in ("RecordingSid", "RecordingUrl", "RecordingDuration", "CallSid", "From", "To")
        }
        spool.write(runtime.settings.instance_path, "recordings", recording_sid, fields)
        log.info(
            "voicemail spooled", extra={"recording_sid": recording_sid, "from": mask_number(fields["From"])}
        )
    else:
        log.warning(
            "recording callback without a RecordingSid", extra={"call_sid": request.form.get("CallSid")}
        )
    withheld = is_withheld(request.form.get("From"))
    return twiml(
        recording_saved_response(runtime.prompts, runtime.languages, runtime.settings.twiml_url(""), withheld)
    )

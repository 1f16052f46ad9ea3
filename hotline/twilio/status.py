"""Status callbacks: Twilio tells how a call, an advisor's leg, a callback's call or a sent text went. Each is
applied once and only forwards; a failure is logged and Twilio gets an empty 204, never a 500.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request
from sqlalchemy import select

from hotline.db.models import Call, utcnow
from hotline.services import outbox, presence
from hotline.services.callback_calls import finish_unstarted
from hotline.services.calls import InboundCall, apply_call_status, record_call
from hotline.twilio import answers
from hotline.twilio.form import attempt_id, sid
from hotline.web import current_runtime

log = logging.getLogger(__name__)
bp = Blueprint("status", __name__)
bp.register_error_handler(Exception, answers.status_error)

# The call states in which a leg is over.
ENDED = ("completed", "busy", "failed", "no-answer", "canceled")


@bp.post("/voice/status")
def voice_status() -> Response:
    runtime = current_runtime()
    call_sid = sid("CallSid")
    status = request.form.get("CallStatus", "")
    if call_sid is None:
        log.warning("call status without a CallSid ignored")
        return Response(status=204)
    with runtime.sessions.begin() as session:
        call = session.scalars(select(Call).where(Call.call_sid == call_sid)).one_or_none()
        if call is None:
            call, _ = record_call(
                session,
                InboundCall(
                    call_sid,
                    request.form.get("From"),
                    request.form.get("To"),
                    status,
                    request.form.get("Direction", "outbound-api"),
                ),
            )
        moved = apply_call_status(session, call, status, request.form.get("CallDuration"))
    log.info("call status", extra={"call_sid": call_sid, "status": status, "applied": moved})
    return Response(status=204)


@bp.post("/sms/status")
def sms_status() -> Response:
    """A delivery status for a text we sent: kept, and applied only forwards (delivered stays delivered); one that
    overtakes the send being recorded is applied when it is."""
    runtime = current_runtime()
    message_sid = sid("MessageSid") or sid("SmsSid")
    status = request.form.get("MessageStatus") or request.form.get("SmsStatus", "")
    if message_sid is None:
        return Response(status=204)
    with runtime.sessions.begin() as session:
        moved = outbox.record_status(session, message_sid, status, request.form.get("ErrorCode"), utcnow())
    log.info("sms status", extra={"message_sid": message_sid, "status": status[:24], "applied": moved})
    return Response(status=204)


@bp.post("/voice/advisor-status")
def advisor_leg_status() -> Response:
    """Status of an advisor's leg: when it ends, the advisor is free again."""
    runtime = current_runtime()
    if request.form.get("CallStatus") in ENDED:
        with runtime.sessions.begin() as session:
            presence.mark_free(session, request.form.get("CallSid", ""))
    return Response(status=204)


@bp.post("/callback/advisor-status")
def callback_advisor_status() -> Response:
    """The advisor's call ended; if they never got as far as dialling, the callback goes back to the queue."""
    runtime = current_runtime()
    status = request.form.get("CallStatus", "")
    if status in ENDED:
        finish_unstarted(runtime, attempt_id(), f"advisor_{status}", "system:status")
    return Response(status=204)

"""Twilio's webhooks: incoming calls and texts, status callbacks, and the fallback that needs no database.

Every request here is checked against X-Twilio-Signature first; an unsigned or wrongly signed one gets 403 and
touches nothing. A failure while answering a call degrades to the fallback answer, never a 500.
"""

from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, abort, request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from twilio.twiml.messaging_response import MessagingResponse

from hotline import outbox, sms_inbound, spool
from hotline.call_log import InboundCall, apply_call_status, record_call
from hotline.fallback import (
    after_dial_response,
    fallback_response,
    recording_saved_response,
)
from hotline.ivr import start_call
from hotline.message_log import InboundMessage, record_inbound_message
from hotline.models import Call, utcnow
from hotline.signature import is_valid
from hotline.web import current_runtime, twiml
from routing.numbers import mask_number

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__, url_prefix="/twilio")

_SID = re.compile(r"^(CA|SM|MM|RE|AC)[0-9a-zA-Z]{10,62}$")


def _sid(field: str) -> str | None:
    value = request.form.get(field, "")
    return value if _SID.match(value) else None


def _base() -> str:
    return current_runtime().settings.public_url or ""


@bp.before_app_request
def _check_signature() -> None:
    if not request.path.startswith("/twilio/"):
        return
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


def fallback() -> Response:
    """The no-database answer, also used when something fails while answering a call."""
    runtime = current_runtime()
    return twiml(fallback_response(runtime.settings, runtime.prompts, _base()))


@bp.post("/voice")
def voice() -> Response:
    runtime = current_runtime()
    call_sid = _sid("CallSid")
    if call_sid is None:
        log.warning("voice webhook without a CallSid; answering with the fallback")
        return fallback()
    incoming = InboundCall(
        call_sid=call_sid,
        from_raw=request.form.get("From"),
        to_raw=request.form.get("To"),
        status=request.form.get("CallStatus", "ringing"),
        direction=request.form.get("Direction", "inbound"),
    )
    try:
        with runtime.sessions.begin() as session:
            call, created = record_call(session, incoming)
            log.info(
                "incoming call" if created else "incoming call retried by Twilio",
                extra={"call_sid": call_sid, "from": mask_number(incoming.from_raw)},
            )
            return start_call(session, runtime, call)
    except SQLAlchemyError:
        log.exception(
            "database failed while answering a call; fallback answer given", extra={"call_sid": call_sid}
        )
        return fallback()


@bp.post("/voice/status")
def voice_status() -> Response:
    runtime = current_runtime()
    call_sid = _sid("CallSid")
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


@bp.post("/voice/fallback")
def voice_fallback() -> Response:
    log.warning(
        "fallback URL answered a call",
        extra={
            "call_sid": request.form.get("CallSid", "")[:64],
            "error_code": request.form.get("ErrorCode", ""),
        },
    )
    return fallback()


@bp.post("/voice/fallback/after-dial")
def voice_fallback_after_dial() -> Response:
    runtime = current_runtime()
    status = request.form.get("DialCallStatus", "")
    return twiml(after_dial_response(runtime.settings, runtime.prompts, status, _base()))


@bp.post("/voice/fallback/recording")
def voice_fallback_recording() -> Response:
    """Spool the voicemail's reference to disk (no database needed); the scheduler imports it later."""
    runtime = current_runtime()
    recording_sid = _sid("RecordingSid")
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
    return twiml(recording_saved_response(runtime.settings, runtime.prompts))


@bp.post("/sms")
def sms() -> Response:
    """An incoming text: stored once per MessageSid, joined to the relative's thread, keywords acted on and the
    automatic reply written to the outbox, all in one transaction. Twilio always gets empty TwiML: replies go
    out through the outbox, and a retried delivery of a known MessageSid does nothing."""
    runtime = current_runtime()
    message_sid = _sid("MessageSid") or _sid("SmsSid")
    if message_sid is None:
        log.warning("sms webhook without a MessageSid ignored")
        return twiml(MessagingResponse())
    num_media = request.form.get("NumMedia", "0")
    incoming = InboundMessage(
        message_sid=message_sid,
        from_raw=request.form.get("From"),
        to_raw=request.form.get("To"),
        body=request.form.get("Body", ""),
        num_media=int(num_media) if num_media.isdigit() else 0,
    )
    handled = None
    try:
        with runtime.sessions.begin() as session:
            message, created = record_inbound_message(session, incoming)
            if created:
                handled = sms_inbound.handle(session, runtime.settings, message, utcnow())
    except SQLAlchemyError:
        log.exception(
            "database failed while taking a text; spooled to disk", extra={"message_sid": message_sid}
        )
        spool.write(
            runtime.settings.instance_path,
            "messages",
            message_sid,
            {k: request.form.get(k, "") for k in ("MessageSid", "From", "To", "Body")},
        )
        return twiml(MessagingResponse())
    except Exception:
        # Acting on it failed (not the database): keep the text; the clockwork's backlog step tries again.
        log.exception("handling a text failed; stored unhandled", extra={"message_sid": message_sid})
        with runtime.sessions.begin() as session:
            _, created = record_inbound_message(session, incoming)
    log.info(
        "incoming sms" if created else "incoming sms retried by Twilio",
        extra={
            "message_sid": message_sid,
            "from": mask_number(incoming.from_raw),
            "chars": len(incoming.body),
            "action": handled.action if handled else None,
            "reply": handled.reply if handled else None,
            "reply_skipped": handled.skipped if handled else None,
        },
    )
    return twiml(MessagingResponse())


@bp.post("/sms/status")
def sms_status() -> Response:
    """A delivery status for a text we sent: kept, and applied only forwards (delivered stays delivered); one that
    overtakes the send being recorded is applied when it is."""
    runtime = current_runtime()
    message_sid = _sid("MessageSid") or _sid("SmsSid")
    status = request.form.get("MessageStatus") or request.form.get("SmsStatus", "")
    if message_sid is None:
        return Response(status=204)
    with runtime.sessions.begin() as session:
        moved = outbox.record_status(session, message_sid, status, request.form.get("ErrorCode"), utcnow())
    log.info("sms status", extra={"message_sid": message_sid, "status": status[:24], "applied": moved})
    return Response(status=204)


def voice_error_answer(error: Exception) -> Response:
    """Registered as the error handler for voice paths: log it, answer the caller anyway."""
    log.error(
        "voice webhook failed; fallback answer given",
        exc_info=error,
        extra={"path": request.path, "call_sid": request.form.get("CallSid", "")[:64]},
    )
    return fallback()


def sms_error_answer(error: Exception) -> Response:
    """Registered as the error handler for /twilio/sms: the text goes to the spool (imported and handled later),
    Twilio gets empty TwiML, never a 500."""
    log.error("sms webhook failed; spooled if possible", exc_info=error, extra={"path": request.path})
    message_sid = _sid("MessageSid") or _sid("SmsSid")
    if message_sid and request.path == "/twilio/sms":
        spool.write(
            current_runtime().settings.instance_path,
            "messages",
            message_sid,
            {k: request.form.get(k, "") for k in ("MessageSid", "From", "To", "Body")},
        )
    return twiml(MessagingResponse())


def status_error_answer(error: Exception) -> Response:
    """A failed status callback is logged; Twilio gets an empty 204, never a 500."""
    log.error("status callback failed", exc_info=error, extra={"path": request.path})
    return Response(status=204)

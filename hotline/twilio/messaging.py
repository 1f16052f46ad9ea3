"""Incoming texts: stored once per MessageSid, joined to the relative's thread, keywords acted on and the
automatic reply written to the outbox, in one transaction. Twilio always gets empty TwiML: replies go out through
the outbox. When the database is down, the text is spooled to disk and handled later.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request
from sqlalchemy.exc import SQLAlchemyError
from twilio.twiml.messaging_response import MessagingResponse

from hotline.db.models import utcnow
from hotline.services import inbox, spool
from hotline.services.texts import InboundMessage, record_inbound_message
from hotline.twilio import answers
from hotline.twilio.form import sid
from hotline.web import current_runtime, twiml
from routing.numbers import mask_number

log = logging.getLogger(__name__)
bp = Blueprint("messaging", __name__, url_prefix="/sms")
bp.register_error_handler(Exception, answers.sms_error)


@bp.post("")
def sms() -> Response:
    """An incoming text: stored once per MessageSid, joined to the relative's thread, keywords acted on and the
    automatic reply written to the outbox, all in one transaction. Twilio always gets empty TwiML: replies go
    out through the outbox, and a retried delivery of a known MessageSid does nothing."""
    runtime = current_runtime()
    message_sid = sid("MessageSid") or sid("SmsSid")
    if message_sid is None:
        log.warning("sms webhook without a MessageSid ignored")
        return twiml(MessagingResponse())
    num_media = request.form.get("NumMedia", "0")
    incoming = InboundMessage(
        message_sid=message_sid,
        from_raw=request.form.get("From"),
        to_raw=request.form.get("To"),
        body=request.form.get("Body", ""),
        num_media=int(num_media) if num_media.isascii() and num_media.isdigit() else 0,
    )
    handled = None
    try:
        with runtime.sessions.begin() as session:
            message, created = record_inbound_message(session, incoming)
            if created:
                handled = inbox.handle(session, runtime.settings, message, utcnow())
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

"""Webhooks for an outbound callback: the advisor's call (press 1), then the relative's leg and the outcome."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request
from twilio.twiml.voice_response import Dial, VoiceResponse

from hotline.db.models import CallbackAttempt, CallbackRequest, utcnow
from hotline.services.callback_calls import callback_url, record_outcome
from hotline.twilio import answers, form
from hotline.twilio.render import say, speak
from hotline.web import current_runtime, twiml
from routing.guard import check_destination
from routing.wording.catalogue import language_name

log = logging.getLogger(__name__)
bp = Blueprint("callback_calls", __name__, url_prefix="/callback")
bp.register_error_handler(Exception, answers.voice_error)


@bp.post("/advisor")
def advisor() -> Response:
    """The advisor picked up: what the callback is about; press 1 to ring the relative."""
    runtime = current_runtime()
    attempt_id = form.attempt_id()
    with runtime.sessions() as session:
        attempt = session.get(CallbackAttempt, attempt_id)
        callback = session.get(CallbackRequest, attempt.callback_id) if attempt else None
    response = VoiceResponse()
    languages = runtime.languages
    if callback is None:
        response.hangup()
        return twiml(response)
    gather = response.gather(
        num_digits=1,
        timeout=8,
        method="POST",
        action=callback_url(runtime.settings, "/advisor/accept", attempt=attempt_id),
    )
    priority = runtime.prompts.text("da", f"callback.{callback.priority}")
    speak(
        gather,
        runtime.prompts,
        languages,
        "da",
        "callback.advisor_intro",
        language=language_name(callback.language),
        priority=priority,
    )
    speak(response, runtime.prompts, languages, "da", "callback.advisor_missed")
    response.hangup()
    return twiml(response)


@bp.post("/advisor/accept")
def advisor_accept() -> Response:
    runtime = current_runtime()
    attempt_id = form.attempt_id()
    response = VoiceResponse()
    languages = runtime.languages
    with runtime.sessions() as session:
        attempt = session.get(CallbackAttempt, attempt_id)
        callback = session.get(CallbackRequest, attempt.callback_id) if attempt else None
    if request.form.get("Digits") != "1" or callback is None:
        speak(response, runtime.prompts, languages, "da", "callback.advisor_missed")
        response.hangup()
        return twiml(response)
    decision = check_destination(callback.phone_number, runtime.policy)
    if not decision.allowed or decision.number is None:
        log.warning(
            "callback refused by the toll-fraud guard",
            extra={"attempt": attempt_id, "reason": decision.reason_code.value},
        )
        say(response, languages, "da", decision.explained_in("da"))  # spoken: the Danish alone
        response.hangup()
        return twiml(response)
    dial = Dial(
        answer_on_bridge=True,
        caller_id=runtime.settings.file.service.hotline_number,
        timeout=runtime.settings.file.escalation.step_timeout_seconds + 10,
        method="POST",
        action=callback_url(runtime.settings, "/result", attempt=attempt_id),
    )
    dial.number(
        decision.number, url=callback_url(runtime.settings, "/relative", attempt=attempt_id), method="POST"
    )
    response.append(dial)
    with runtime.sessions.begin() as session:
        row = session.get(CallbackAttempt, attempt_id)
        if row is not None:
            row.relative_call_sid = row.relative_call_sid or request.form.get("CallSid", "")[:64]
    return twiml(response)


@bp.post("/relative")
def relative() -> Response:
    """The relative's leg, before it is bridged: a greeting in their language, so they know who calls."""
    runtime = current_runtime()
    with runtime.sessions() as session:
        attempt = session.get(CallbackAttempt, form.attempt_id())
        callback = session.get(CallbackRequest, attempt.callback_id) if attempt else None
    language = callback.language if callback else runtime.languages.default
    response = VoiceResponse()
    speak(
        response,
        runtime.prompts,
        runtime.languages,
        language,
        "callback.relative_intro",
        service_name=runtime.settings.file.service.name,
    )
    return twiml(response)


@bp.post("/result")
def result() -> Response:
    """The relative's `<Dial>` ended: reached when it was answered, otherwise a missed attempt."""
    runtime = current_runtime()
    status = request.form.get("DialCallStatus", "")
    with runtime.sessions.begin() as session:
        attempt = session.get(CallbackAttempt, form.attempt_id())
        if attempt is not None:
            record_outcome(
                session,
                attempt,
                reached=status in ("completed", "answered"),
                now=utcnow(),
                actor=f"advisor:{attempt.advisor_id}",
                settings=runtime.settings.file.callbacks,
            )
    log.info("callback dial ended", extra={"attempt": form.attempt_id(), "status": status})
    response = VoiceResponse()
    response.hangup()
    return twiml(response)

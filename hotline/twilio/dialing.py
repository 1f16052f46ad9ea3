"""Putting a caller through: ring the on-call chain step by step, with a "press 1" guard on each advisor's leg,
then hand the call back to the call flow with the result (answered, or no answer: the flow registers the callback
before the caller hears when it will come).

The chain is computed once per call and stored (`call_routing`), so a retried webhook walks the same chain; the
step and the caller's place in the flow travel in the URL. Every answer here is TwiML; a failure degrades to the
fallback answer (hotline.twilio.answers).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import parse_qsl

from flask import Blueprint, Response, request
from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import Dial, VoiceResponse

from hotline.db.models import AdvisorRecord, Call, CallEvent, CallRouting, Relative, utcnow
from hotline.runtime import Runtime
from hotline.services import presence, relatives
from hotline.services.calls import InboundCall, add_event, record_call
from hotline.services.oncall import chain_for
from hotline.twilio import answers
from hotline.twilio.render import speak
from hotline.web import current_runtime, twiml
from routing.guard import check_destination
from routing.wording.catalogue import language_name

log = logging.getLogger(__name__)
bp = Blueprint("dialing", __name__, url_prefix="/voice")
bp.register_error_handler(Exception, answers.voice_error)

REASONS = ("acute", "question")


def _url(path: str, **params: object) -> str:
    """A URL under /twilio/voice (the advisor's leg: the whisper and its status)."""
    return current_runtime().settings.twiml_url(f"/twilio/voice{path}", **params)


def _caller_url(path: str, **params: object) -> str:
    """A URL of the caller's own leg: the caller's place in the call flow (`flow`) travels along, so the chain
    can hand the call back to the flow when it ends."""
    return _url(path, **params, flow=request.args.get("flow", ""))


def _back_to_flow(result: str) -> VoiceResponse:
    """Hand the call back to the call flow with the connect result: the flow says what comes next (goodbye, or
    a callback registered before the caller hears when it comes). A missing or garbled `flow` starts it over."""
    flow = dict(parse_qsl(request.args.get("flow", "")))
    response = VoiceResponse()
    response.redirect(
        current_runtime().settings.twiml_url("/twilio/voice/step", **flow, result=result), method="POST"
    )
    return response


def _args() -> tuple[str, str, int]:
    runtime = current_runtime()
    reason = request.args.get("reason", "question")
    language = request.args.get("lang", runtime.languages.default)
    step = request.args.get("step", "0")
    if reason not in REASONS:
        reason = "question"
    if not runtime.languages.is_enabled(language):
        language = runtime.languages.default
    return reason, language, int(step) if step.isascii() and step.isdigit() and len(step) < 4 else 0


def _routing(session: Session, runtime: Runtime, call_sid: str, reason: str, language: str) -> CallRouting:
    """The call's routing record: created once with the chain as it stands now."""
    existing = session.get(CallRouting, call_sid)
    if existing is not None:
        return existing
    call, _ = record_call(
        session, InboundCall(call_sid, request.form.get("From"), request.form.get("To"), "in-progress")
    )
    relative = relatives.find(session, call.from_number) if call.from_number else None
    chain = chain_for(
        session,
        runtime.settings,
        at=utcnow(),
        reason=reason,  # type: ignore[arg-type]
        language=language,
        contact_person_id=relatives.contact_person(relative),
    )
    routing = CallRouting(
        call_sid=call_sid,
        relative_id=relative.id if relative else None,
        reason=reason,
        language=language,
        chain=",".join(chain.advisor_ids),
        step=0,
        started_at=utcnow(),
    )
    session.add(routing)
    session.flush()
    log.info(
        "chain computed", extra={"call_sid": call_sid, "reason": reason, "steps": len(chain.advisor_ids)}
    )
    return routing


def _max_wait(runtime: Runtime, reason: str) -> timedelta:
    escalation = runtime.settings.file.escalation
    seconds = escalation.max_wait_seconds_acute if reason == "acute" else escalation.max_wait_seconds_question
    return timedelta(seconds=seconds)


@bp.post("/connect")
def connect() -> Response:
    """Ring the next advisor in the chain, or end with a callback when the chain is done."""
    runtime = current_runtime()
    reason, language, _ = _args()
    call_sid = request.form.get("CallSid", "")
    now = utcnow()
    with runtime.sessions.begin() as session:
        routing = _routing(session, runtime, call_sid, reason, language)
        chain = [a for a in routing.chain.split(",") if a]
        policy = runtime.policy
        while routing.step < len(chain) and now - routing.started_at < _max_wait(runtime, reason):
            advisor = session.get(AdvisorRecord, chain[routing.step])
            if advisor is not None and check_destination(advisor.phone_number, policy).allowed:
                return twiml(_dial(runtime, routing, advisor, language))
            log.warning("advisor skipped: number refused or unknown", extra={"call_sid": call_sid})
            routing.step += 1
        routing.outcome = "no_answer"
        return twiml(_back_to_flow("no_answer"))


def _dial(runtime: Runtime, routing: CallRouting, advisor: AdvisorRecord, language: str) -> VoiceResponse:
    settings = runtime.settings
    response = VoiceResponse()
    if routing.step > 0:  # the call flow said it is putting the caller through; after that, reassurance
        speak(response, runtime.prompts, runtime.languages, language, "connect.wait")
    dial = Dial(
        answer_on_bridge=True,
        caller_id=settings.file.service.hotline_number,
        timeout=settings.file.escalation.step_timeout_seconds,
        action=_caller_url("/connect/result", reason=routing.reason, lang=language, step=routing.step),
        method="POST",
    )
    dial.number(
        advisor.phone_number,
        url=_url("/whisper", parent=routing.call_sid, step=routing.step, advisor=advisor.id),
        method="POST",
        status_callback=_url("/advisor-status", advisor=advisor.id),
        status_callback_event="answered completed",
        status_callback_method="POST",
    )
    response.append(dial)
    log.info(
        "ringing advisor", extra={"call_sid": routing.call_sid, "step": routing.step, "advisor": advisor.id}
    )
    return response


@bp.post("/connect/result")
def connect_result() -> Response:
    """After one advisor's `<Dial>`: talked → goodbye; otherwise the next step."""
    runtime = current_runtime()
    reason, language, step = _args()
    call_sid = request.form.get("CallSid", "")
    status = request.form.get("DialCallStatus", "")
    with runtime.sessions.begin() as session:
        routing = _routing(session, runtime, call_sid, reason, language)
        accepted = session.scalars(
            select(CallEvent)
            .join(CallEvent.call)
            .where(CallEvent.kind == "accepted", CallEvent.detail == str(step))
            .where(CallEvent.call.has(call_sid=call_sid))
        ).first()
        if accepted is not None and status in ("completed", "answered"):
            routing.outcome = "connected"
            return twiml(_back_to_flow("answered"))
        if routing.step == step:  # a retried action finds the step already moved on
            routing.step = step + 1
        log.info(
            "advisor did not take the call", extra={"call_sid": call_sid, "step": step, "status": status}
        )
    response = VoiceResponse()
    response.redirect(_caller_url("/connect", reason=reason, lang=language), method="POST")
    return twiml(response)


@bp.post("/whisper")
def whisper() -> Response:
    """The advisor's leg: who is calling, and press 1 — so a voicemail box never takes a relative's call."""
    runtime = current_runtime()
    parent = request.args.get("parent", "")
    step = request.args.get("step", "0")
    advisor_id = request.args.get("advisor", "")
    languages = runtime.languages
    with runtime.sessions() as session:
        routing = session.get(CallRouting, parent)
        relative = session.get(Relative, routing.relative_id) if routing and routing.relative_id else None
        call = session.scalars(select(Call).where(Call.call_sid == parent)).one_or_none()
    # "Has called before" means known before this call began, not merely remembered during it.
    returning = relative is not None and (call is None or relative.created_at < call.created_at)
    reason = routing.reason if routing else "question"
    language = routing.language if routing else languages.default
    response = VoiceResponse()
    gather = response.gather(
        num_digits=1,
        timeout=8,
        method="POST",
        action=_url("/whisper/accept", parent=parent, step=step, advisor=advisor_id),
    )
    for _ in range(2):
        speak(gather, runtime.prompts, languages, "da", f"whisper.{reason}")
        speak(gather, runtime.prompts, languages, "da", "whisper.language", language=language_name(language))
        speak(gather, runtime.prompts, languages, "da", "whisper.returning" if returning else "whisper.new")
        if relative is not None and relatives.contact_person(relative) == advisor_id:
            speak(gather, runtime.prompts, languages, "da", "whisper.contact_person")
        speak(gather, runtime.prompts, languages, "da", "whisper.press_one")
    response.hangup()  # no key (a voicemail box, or nobody listening): this leg ends, the chain moves on
    return twiml(response)


@bp.post("/whisper/accept")
def whisper_accept() -> Response:
    runtime = current_runtime()
    parent = request.args.get("parent", "")
    step = request.args.get("step", "0")
    advisor_id = request.args.get("advisor", "")
    response = VoiceResponse()
    if request.form.get("Digits") != "1":
        speak(response, runtime.prompts, runtime.languages, "da", "whisper.missed")
        response.hangup()
        return twiml(response)
    with runtime.sessions.begin() as session:
        call, _ = record_call(session, InboundCall(parent, None, None, "in-progress"))
        add_event(session, call, "accepted", step)
        presence.mark_busy(session, advisor_id, request.form.get("CallSid", ""), utcnow())
        routing = session.get(CallRouting, parent)
        if routing is not None:
            routing.connected_advisor_id = advisor_id
            # The caller reached a human now (the reports' time to a human); a retried webhook keeps the first.
            routing.connected_at = routing.connected_at or utcnow()
            if routing.relative_id is not None:
                relative = session.get(Relative, routing.relative_id)
                if relative is not None:
                    relative.last_advisor_id = advisor_id
    log.info("advisor accepted the call", extra={"call_sid": parent, "advisor": advisor_id})
    return twiml(response)  # an empty answer: the legs are bridged

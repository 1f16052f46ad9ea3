"""Carrying out the flow's actions: register a callback, send information by text, check a keyed-in number,
and take a voicemail. Each is keyed on the CallSid, so a webhook Twilio retries does not act twice."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from hotline.db.models import Recording, Relative, utcnow
from hotline.db.session import insert_ignore
from hotline.runtime import Runtime
from hotline.services import callback_queue, relatives, voicemails
from hotline.services.inbox import queue_info_text
from ivr_flows.call_state import CallState
from ivr_flows.outcome import Action
from routing.callbacks import Priority
from routing.guard import DestinationPolicy, check_destination
from routing.numbers import mask_number, normalize_number

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Caller:
    """Who is on the line, read from Twilio's form once, at the edge (the actions never read the request)."""

    call_sid: str
    number: str | None  # the caller ID in E.164; None when withheld or not a phone number


@dataclass(frozen=True)
class Voicemail:
    """What Twilio reported about a recording the flow asked for."""

    recording_sid: str
    recording_url: str | None
    duration: str


@dataclass(frozen=True)
class Destination:
    """The number to call or text back, and whether the caller keyed it in (then it is not known to be theirs,
    and the caps allow it only a few texts and callbacks a day)."""

    number: str
    keyed_in: bool


def _number(action: Action, caller: Caller, policy: DestinationPolicy) -> Destination | None:
    """The number to call or text back: one the caller keyed in and confirmed, else their caller ID; None when
    there is none or the toll-fraud guard refuses it (then nothing about it is stored either)."""
    keyed_in = action.params.get("number")
    number = normalize_number(keyed_in) if keyed_in else caller.number
    if number is None or not check_destination(number, policy).allowed:
        return None
    return Destination(number, keyed_in=bool(keyed_in))


def carry_out(session: Session, runtime: Runtime, caller: Caller, action: Action) -> str:
    """Do `action` and return its result word for the engine."""
    if action.kind == "validate_number":
        decision = check_destination(action.params.get("number"), runtime.policy)
        return "ok" if decision.allowed else "refused"
    if action.kind == "callback":
        return _callback(session, runtime, caller, action)
    if action.kind == "sms_info":
        return _sms_info(session, runtime, caller, action)
    log.error("unknown flow action", extra={"call_sid": caller.call_sid, "action": action.kind})
    return "failed"


def _callback(session: Session, runtime: Runtime, caller: Caller, action: Action) -> str:
    """Register the callback; "failed" (the caller hears that it could not be ordered) when there is no number
    or a cap refuses a keyed-in one: nobody is promised a call that will not come."""
    destination = _number(action, caller, runtime.policy)
    if destination is None:
        return "failed"
    relative, _ = relatives.find_or_create(session, destination.number)
    language = action.params.get("language") or action.state.language or runtime.languages.default
    relative.language = relative.language or language
    reason = action.params.get("reason", "question")
    try:
        _register(session, runtime, caller, action, relative, language, reason, destination.keyed_in)
    except callback_queue.CallbackCapped:
        return "failed"
    # Committed before the caller hears the confirmation: the caller is told only what is stored.
    session.flush()
    return "registered"


def _register(
    session: Session,
    runtime: Runtime,
    caller: Caller,
    action: Action,
    relative: Relative,
    language: str,
    reason: str,
    keyed_in: bool,
) -> None:
    callback_queue.register(
        session,
        relative=relative,
        call_sid=caller.call_sid,
        priority=Priority(reason if reason in ("acute", "question") else "question"),
        reason=reason,
        language=language,
        window_key=action.params.get("window", "asap"),
        settings=runtime.settings.file.callbacks,
        assigned_advisor_id=relatives.contact_person(relative),
        now=utcnow(),
        actor="system:ivr",
        policy=runtime.policy,
        keyed_in=keyed_in,
        picked=action.params.get("picked_by") == "caller",
    )


def _sms_info(session: Session, runtime: Runtime, caller: Caller, action: Action) -> str:
    """Queue the information text in the caller's language; the dedup key makes a retried step a no-op."""
    destination = _number(action, caller, runtime.policy)
    if destination is None:
        return "failed"
    topic = action.params.get("topic", "offers")
    language = action.params.get("language") or action.state.language or runtime.languages.default
    queued = queue_info_text(
        session,
        runtime.settings,
        destination.number,
        topic,
        language,
        utcnow(),
        dedup_key=f"ivr:{caller.call_sid}:{topic}",
        keyed_in=destination.keyed_in,
    )
    # Refused by a cap: the caller hears that the text could not be sent, not that it was.
    return "sent" if queued else "failed"


def voicemail_twiml(response: VoiceResponse, runtime: Runtime, action: Action) -> None:
    """`<Record>` whose result comes back to the flow as ActionResult("voicemail", recorded|kept|empty)."""
    url = runtime.settings.twiml_url("/twilio/voice/step", **action.state.to_params(), rec="1")
    max_length = action.params.get("max_length_s", "120")
    response.record(
        action=url,
        method="POST",
        max_length=int(max_length) if max_length.isascii() and max_length.isdigit() else 120,
        finish_on_key="#",
        play_beep=True,
        timeout=8,
    )
    response.redirect(url, method="POST")  # nothing recorded at all: the flow decides what comes next


def store_voicemail(
    session: Session, runtime: Runtime, caller: Caller, state: CallState, recording: Voicemail
) -> str:
    """Keep the recording's reference and put it in the callback queue; "empty" when nothing was said, "kept"
    when the caps refuse a callback to the keyed-in number (the recording is kept, no call is promised)."""
    recording_sid, duration, call_sid = recording.recording_sid, recording.duration, caller.call_sid
    if (
        not recording_sid.startswith("RE")
        or not (duration.isascii() and duration.isdigit())
        or int(duration) == 0
    ):
        return "empty"
    number = caller.number
    if number is None and state.digits and state.number_confirmed:
        number = normalize_number(f"+45{state.digits}")
    insert_ignore(
        session,
        Recording,
        {
            "recording_sid": recording_sid[:64],
            "call_sid": call_sid,
            "recording_url": recording.recording_url,
            "duration_seconds": int(duration),
            "from_number": number,
            "source": "ivr",
            "received_at": utcnow(),
        },
        ["recording_sid"],
    )
    result = "recorded"
    try:
        voicemails.file_voicemail(
            session,
            recording_sid=recording_sid,
            call_sid=call_sid,
            number=number,
            language=state.language or runtime.languages.default,
            settings=runtime.settings.file.callbacks,
            policy=runtime.policy,
            now=utcnow(),
            actor="system:voicemail",
            keyed_in=caller.number is None,
        )
    except callback_queue.CallbackCapped:
        # A keyed-in number that had its callbacks for the day: the message is kept (staff see the refusal
        # with the recording), and the caller is not promised a call.
        result = "kept"
    log.info(
        "voicemail saved",
        extra={"call_sid": call_sid, "from": mask_number(number), "seconds": duration, "result": result},
    )
    return result

"""The call flow on the phone: each webhook is one step of the pure engine, rendered as TwiML.

The call's position travels in the URL (`CallState.to_params()`), so any process can serve the next step.
Synchronous actions (register a callback, send a text, check a keyed-in number) are carried out here and the
engine is stepped again; `connect` and `voicemail` hand the call to TwiML that reports back later.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import cast
from urllib.parse import urlencode

from flask import Blueprint, Response, request
from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from hotline.db.models import CallbackCall, CallbackRequest, utcnow
from hotline.runtime import Runtime
from hotline.services import relatives, rosters
from hotline.services.calls import InboundCall
from hotline.twilio import answers
from hotline.twilio.actions import Caller, Voicemail, carry_out, store_voicemail, voicemail_twiml
from hotline.twilio.render import CALL_VALUES, placeholder_values, placeholders_in, render
from hotline.web import current_runtime, twiml
from ivr_flows.call_state import CallState
from ivr_flows.engine import step
from ivr_flows.events import ActionResult, Digits, Event, Start, Timeout
from ivr_flows.outcome import Action, Hangup, Outcome
from routing.numbers import normalize_number
from routing.oncall import oncall_at
from routing.roster import Roster

log = logging.getLogger(__name__)
bp = Blueprint("flow", __name__, url_prefix="/voice")
bp.register_error_handler(Exception, answers.voice_error)

# Synchronous actions in a row before we give up and hand the caller to a person (a flow bug, not a caller's).
MAX_ACTIONS_PER_REQUEST = 5
# Rendered answers kept per process (Runtime.answers): states differ by node, language, flags and counters, so a
# few hundred cover a busy day; past this the store starts again.
MAX_KEPT_ANSWERS = 2048

# Built once, on the tables: the callback a call registered or was linked to, for "we call you back before 18.30".
_REQUESTS = cast(Table, CallbackRequest.__table__).c
_LINKS = cast(Table, CallbackCall.__table__).c
_CALLBACK_DUE = (
    select(_REQUESTS.window_start, _REQUESTS.due_at)
    .join_from(CallbackRequest.__table__, CallbackCall.__table__, _LINKS.callback_id == _REQUESTS.id)
    .where(_LINKS.call_sid == bindparam("sid"))
    .limit(1)
)


class _Now:
    """What one request knows of the roster: read (one version check, the roster itself from memory) only when a
    step or a prompt needs it, and then once."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.at = utcnow()
        self._on_call: bool | None = None
        self._roster: tuple[Roster | None] | None = None

    def roster(self) -> Roster | None:
        if self._roster is None:
            self._roster = (rosters.current_roster(self.session),)
        return self._roster[0]

    def on_call(self) -> bool:
        """Whether anyone is on call now; asked afresh in every request (the roster may have changed)."""
        if self._on_call is None:
            roster = self.roster()
            self._on_call = bool(roster and oncall_at(roster, self.at))
        return self._on_call


def _step(runtime: Runtime, now: _Now, state: CallState, event: Event) -> Outcome:
    """One step of the engine. It is first stepped with the state's own guess of `has_on_call`; only a walk that
    depended on it (a `check_hours` node) is stepped again with the roster's answer, if the guess was wrong."""
    outcome = step(runtime.flow, state, event)
    if outcome.asked_on_call and state.has_on_call != now.on_call():
        outcome = step(runtime.flow, replace(state, has_on_call=now.on_call()), event)
    return outcome


def start_call(runtime: Runtime, call: InboundCall, remembered: str | None) -> Response:
    """The first answer to a new call (already recorded): the flow's start, in the caller's remembered language.
    A greeting every caller in the same state hears alike is answered from memory, without a session."""
    if remembered and not runtime.languages.is_enabled(remembered):
        remembered = ""
    state = CallState(
        language=remembered or "",
        returning_caller=bool(remembered),
        withheld=call.withheld or not (call.from_number or "").startswith("+"),
    )
    known = runtime.answers.get((state, Start()))
    if known is not None:
        return twiml(known)
    with runtime.sessions.begin() as session:
        return _respond(session, runtime, Caller(call.call_sid, call.caller_number), state, Start())


def _respond(
    session: Session, runtime: Runtime, caller: Caller, state: CallState, event: Event, *, keep: bool = True
) -> Response:
    """Step the flow from `state` with `event`, carry out its actions and render the answer. An answer that is
    the same for every call in this state (no action, no roster, no time or callback in its words, no digits a
    caller keyed in) is kept in `runtime.answers` when `keep`, for the views to answer from memory."""
    call_sid = caller.call_sid
    now = _Now(session)
    outcome = _step(runtime, now, state, event)
    chosen_language = outcome.chosen_language
    acted = False
    for _ in range(MAX_ACTIONS_PER_REQUEST):
        if not isinstance(outcome.next, Action):
            break
        action = outcome.next
        if action.kind in ("connect", "voicemail"):
            return twiml(_hand_over(session, runtime, now, call_sid, outcome, action))
        result = carry_out(session, runtime, caller, action)
        acted = True
        log.info("ivr action", extra={"call_sid": call_sid, "action": action.kind, "result": result})
        outcome = _prepend(outcome, _step(runtime, now, action.state, ActionResult(action.kind, result)))
    else:
        log.error("too many actions in one step; putting the caller through", extra={"call_sid": call_sid})
        return twiml(
            _hand_over(
                session, runtime, now, call_sid, outcome, Action("connect", {"reason": "question"}, state)
            )
        )
    if chosen_language and caller.number:
        # A caller who chose a language is greeted in it next time (by phone number).
        relatives.keep_language(session, caller.number, chosen_language, call_sid)
    names = placeholders_in(outcome, runtime.prompts)
    document = str(_render(session, runtime, now, call_sid, outcome, names))
    same_for_all = not (acted or chosen_language or outcome.asked_on_call or names & CALL_VALUES)
    if keep and same_for_all and not _personal(state, outcome):
        if len(runtime.answers) >= MAX_KEPT_ANSWERS:
            runtime.answers.clear()
        runtime.answers[(state, event)] = document
    return twiml(document)


def _personal(state: CallState, outcome: Outcome) -> bool:
    """True when the state holds digits a withheld caller keyed in (their number): such answers are not kept."""
    return bool(state.digits) or (not isinstance(outcome.next, Hangup) and bool(outcome.next.state.digits))


def _render(
    session: Session,
    runtime: Runtime,
    now: _Now,
    call_sid: str,
    outcome: Outcome,
    names: frozenset[str] | None = None,
) -> VoiceResponse:
    """The outcome as TwiML, with the placeholder values its prompts name, as of now (the next time someone is
    on call, the call's callback time: each computed only when a prompt says it)."""
    values = placeholder_values(
        runtime.settings,
        runtime.prompts,
        now.roster,
        now.at,
        _language_of(outcome, runtime),
        callback_due=lambda: _callback_due(session, call_sid),
        names=placeholders_in(outcome, runtime.prompts) if names is None else names,
    )
    return render(
        outcome,
        prompts=runtime.prompts,
        languages=runtime.languages,
        values=values,
        base=runtime.settings.twiml_url(""),
    )


def _callback_due(session: Session, call_sid: str) -> tuple[datetime, datetime] | None:
    """The window start and due time of the callback this call registered or was linked to."""
    row = session.execute(_CALLBACK_DUE, {"sid": call_sid}).first()
    return (row.window_start, row.due_at) if row else None


def _prepend(before: Outcome, after: Outcome) -> Outcome:
    """Speech said before an action is still said, ahead of what follows it."""
    return Outcome(speech=before.speech + after.speech, next=after.next)


def _language_of(outcome: Outcome, runtime: Runtime) -> str:
    for item in outcome.speech:
        return item.language
    return runtime.languages.default


def _hand_over(
    session: Session, runtime: Runtime, now: _Now, call_sid: str, outcome: Outcome, action: Action
) -> VoiceResponse:
    """Speech so far, then TwiML that continues outside the engine: the on-call chain, or a recording."""
    response = _render(session, runtime, now, call_sid, Outcome(outcome.speech, action))
    language = action.params.get("language") or action.state.language or runtime.languages.default
    if action.kind == "connect":
        query = {
            "reason": action.params.get("reason", "question"),
            "lang": language,
            "flow": urlencode(action.state.to_params()),
        }
        response.redirect(runtime.settings.twiml_url("/twilio/voice/connect", **query), method="POST")
    else:
        voicemail_twiml(response, runtime, action)
    return response


@bp.post("/step")
def flow_step() -> Response:
    runtime = current_runtime()
    # Whether anyone is on call is asked afresh (the roster may have changed since the last step), but only by a
    # step whose walk depends on it (see _step).
    state = CallState.from_params(request.args)
    recorded = request.args.get("rec") == "1"
    event: Event
    if request.args.get("result"):
        event = ActionResult("connect", request.args["result"])
    else:
        digits = request.form.get("Digits", "")
        event = Digits(digits) if digits else Timeout()
    if not recorded:
        known = runtime.answers.get((state, event))
        if known is not None:  # an answer every call in this state hears alike: no database, no rendering
            return twiml(known)
    caller = Caller(request.form.get("CallSid", ""), normalize_number(request.form.get("From")))
    with runtime.sessions.begin() as session:
        if recorded:
            recording = Voicemail(
                request.form.get("RecordingSid", ""),
                request.form.get("RecordingUrl"),
                request.form.get("RecordingDuration", "0"),
            )
            event = ActionResult("voicemail", store_voicemail(session, runtime, caller, state, recording))
        return _respond(session, runtime, caller, state, event, keep=not recorded)

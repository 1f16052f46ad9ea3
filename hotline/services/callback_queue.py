"""The callback queue in the database: register (idempotently), move through states, record attempts.

The rules (windows, due times, states, retries) are `routing.callbacks`; this module stores their results.
Functions take the session and do not commit: the caller commits before the relative hears a confirmation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.config.sections import CallbackSettings
from hotline.db.models import (
    CallbackAttempt,
    CallbackCall,
    CallbackRefusal,
    CallbackRequest,
    CallbackTransition,
    OutboxText,
    Relative,
    utcnow,
)
from hotline.db.session import insert_ignore
from hotline.services import outbox
from routing.callbacks import (
    FINAL_STATES,
    Event,
    Priority,
    QuietHours,
    RetryPolicy,
    State,
    WindowSlot,
    WindowSpec,
    due_time,
    queue_key,
    record,
    resolve_window,
    transition,
)
from routing.guard import DestinationPolicy, GuardDecision, check_destination
from routing.numbers import mask_number
from sms.ratelimit import Decision, keyed_in_allowed

log = logging.getLogger(__name__)

OPEN_STATES = tuple(s.value for s in State if s not in FINAL_STATES)


def window_specs(settings: CallbackSettings) -> dict[str, WindowSpec]:
    """config.yaml's windows as routing's specs ("as soon as possible" spans the question response time)."""
    specs = {}
    for window in settings.windows:
        if window.start is None:
            specs[window.key] = WindowSpec(key=window.key, within_minutes=settings.response_minutes_question)
        else:
            specs[window.key] = WindowSpec(key=window.key, start=window.start, end=window.end)
    return specs


def quiet_hours(settings: CallbackSettings) -> QuietHours:
    """config.yaml's quiet hours as routing's value."""
    return QuietHours(settings.quiet_hours.start, settings.quiet_hours.end)


def quiet_for(callback: CallbackRequest, settings: CallbackSettings) -> QuietHours | None:
    """The quiet hours that bind this callback: none for an acute one or a window the relative picked."""
    if callback.priority == Priority.ACUTE.value or callback.window_picked:
        return None
    return quiet_hours(settings)


def _slot(spec: WindowSpec, now: datetime, quiet: QuietHours | None) -> WindowSlot:
    """The slot `spec` means now, out of the quiet hours when they apply (a window wholly inside them, which
    only a relative can pick, keeps its hours)."""
    if quiet is not None:
        try:
            return resolve_window(spec, now, quiet=quiet)
        except ValueError:
            pass
    return resolve_window(spec, now)


def retry_policy(settings: CallbackSettings) -> RetryPolicy:
    return RetryPolicy(max_attempts=settings.max_attempts, minutes_between=settings.minutes_between_attempts)


def response_minutes(settings: CallbackSettings) -> dict[str, int]:
    return {"acute": settings.response_minutes_acute, "question": settings.response_minutes_question}


class CallbackRefused(Exception):
    """The toll-fraud guard refuses to call this number back; `decision` says why."""

    def __init__(self, decision: GuardDecision) -> None:
        super().__init__(decision.explanation)
        self.decision = decision


class CallbackCapped(Exception):
    """The caps refuse a new callback to this number (keyed in on the phone, and it had its callbacks for the
    day): nothing is promised, and the refusal is stored (`CallbackRefusal`) for staff to see."""

    def __init__(self, decision: Decision, refusal: CallbackRefusal) -> None:
        super().__init__(decision.detail)
        self.decision, self.refusal = decision, refusal


@dataclass(frozen=True)
class Registration:
    callback: CallbackRequest
    created: bool  # False: this call was linked to an open request, or the webhook was a retry
    text: OutboxText | None = None  # the relative's "we will call you" text, queued with a new request


def _record_step(
    session: Session, callback: CallbackRequest, event: Event, actor: str, at: datetime
) -> Event:
    """Record one step of the callback's life (who, when, from and to which state); nothing else."""
    step = record(State(callback.state), event, actor=actor, at=at)
    session.add(
        CallbackTransition(
            callback_id=callback.id,
            from_state=step.from_state.value,
            to_state=step.to_state.value,
            event=step.event.value,
            actor=actor[:100],
            at=step.at,
        )
    )
    callback.state = step.to_state.value
    callback.updated_at = at
    if step.to_state in FINAL_STATES:
        callback.open_for_relative = None
    return step.event


def open_request(session: Session, relative_id: int) -> CallbackRequest | None:
    return session.scalars(
        select(CallbackRequest).where(CallbackRequest.open_for_relative == relative_id)
    ).one_or_none()


def register(
    session: Session,
    *,
    relative: Relative,
    call_sid: str | None,
    priority: Priority,
    reason: str,
    language: str,
    window_key: str,
    settings: CallbackSettings,
    assigned_advisor_id: str | None,
    now: datetime,
    actor: str,
    policy: DestinationPolicy,
    recording_sid: str | None = None,
    keyed_in: bool = False,
    picked: bool = False,
) -> Registration:
    """A callback for `relative`: the existing one for this call or their open request, else a new one.

    The toll-fraud guard comes first, whatever the path: a number it refuses (premium-rate, foreign, a service
    code) gets no callback and raises CallbackRefused, so nobody is promised a call that will never be placed.
    A new request is written as requested → scheduled with its slot and due time. An acute call linked to an
    open question raises its priority; it never lowers one. `picked` says the relative chose `window_key`
    themselves: an open request is then moved to it (a `reschedule` step), and the quiet hours do not apply to
    it; a window the hotline chose for a question (`picked` False) is kept out of the quiet hours.

    `keyed_in`: the caller typed the number in on the phone menu (their own caller ID was withheld). Such a
    number gets at most `callbacks.keyed_in_per_number_per_day` new callbacks a day: one more raises
    CallbackCapped, after storing the refusal (joining its open request is always allowed: nothing new).
    """
    decision = check_destination(relative.phone_number, policy)
    if not decision.allowed:
        raise CallbackRefused(decision)
    if call_sid:
        linked = session.scalars(select(CallbackCall).where(CallbackCall.call_sid == call_sid)).one_or_none()
        if linked is not None:
            existing = session.get(CallbackRequest, linked.callback_id)
            assert existing is not None
            return Registration(existing, created=False)
    existing = open_request(session, relative.id)
    if existing is not None:
        if priority == Priority.ACUTE and existing.priority != Priority.ACUTE.value:
            existing.priority = Priority.ACUTE.value
            existing.due_at = min(
                existing.due_at, due_time(priority, slot_of(existing), now, response_minutes(settings))
            )
        if recording_sid and not existing.recording_sid:
            existing.recording_sid = recording_sid
        text = None
        if picked:
            text = _repick(session, existing, window_key, settings, now, actor)
        _link(session, existing, call_sid, now)
        return Registration(existing, created=False, text=text)

    if keyed_in:
        _check_keyed_in_cap(session, relative.phone_number, call_sid, recording_sid, now)
    specs = window_specs(settings)
    spec = specs.get(window_key) or next(iter(specs.values()))
    quiet = None if picked or priority == Priority.ACUTE else quiet_hours(settings)
    slot = _slot(spec, now, quiet)
    callback = CallbackRequest(
        relative_id=relative.id,
        open_for_relative=relative.id,
        phone_number=relative.phone_number,
        priority=priority.value,
        reason=reason,
        language=language,
        window_key=spec.key,
        window_start=slot.start_utc,
        window_end=slot.end_utc,
        due_at=due_time(priority, slot, now, response_minutes(settings), quiet=quiet),
        state=State.REQUESTED.value,
        assigned_advisor_id=assigned_advisor_id,
        recording_sid=recording_sid,
        keyed_in=keyed_in,
        window_picked=picked,
        created_at=now,
        updated_at=now,
    )
    _add_new(session, callback, actor, now)
    # The relative's "we will call you" text, in the same transaction as the request itself.
    text = outbox.callback_moved(session, callback, Event.SCHEDULE, now)
    _link(session, callback, call_sid, now)
    return Registration(callback, created=True, text=text)


def _add_new(session: Session, callback: CallbackRequest, actor: str, now: datetime) -> None:
    """Store a new request and its first two steps: requested, then scheduled."""
    session.add(callback)
    session.flush()
    session.add(
        CallbackTransition(
            callback_id=callback.id,
            from_state=None,
            to_state=State.REQUESTED.value,
            event="request",
            actor=actor[:100],
            at=now,
        )
    )
    _record_step(session, callback, Event.SCHEDULE, actor, now)


# States in which the relative can move their open request to another window: an advisor is not dialling it.
_REPICKABLE = (State.SCHEDULED.value, State.NOT_REACHED.value)


def _repick(
    session: Session,
    callback: CallbackRequest,
    window_key: str,
    settings: CallbackSettings,
    now: datetime,
    actor: str,
) -> OutboxText | None:
    """The relative picked `window_key` on a later call: move their open request there (a `reschedule` step
    and its status text) unless it already is in that window, still to come, or an advisor is dialling it."""
    spec = window_specs(settings).get(window_key)
    if spec is None or callback.state not in _REPICKABLE:
        return None
    if callback.window_key == spec.key and callback.window_end > now and callback.window_picked:
        return None
    slot = resolve_window(spec, now)
    callback.window_key = spec.key
    callback.window_start = slot.start_utc
    callback.window_end = slot.end_utc
    callback.window_picked = True
    callback.due_at = due_time(Priority(callback.priority), slot, now, response_minutes(settings))
    callback.attempts = 0
    callback.next_attempt_at = None
    return move(session, callback, Event.RESCHEDULE, actor, now)


def register_task(
    session: Session,
    *,
    call_sid: str,
    language: str,
    settings: CallbackSettings,
    now: datetime,
    actor: str,
    recording_sid: str,
) -> CallbackRequest:
    """A voicemail nobody can be called back about (the number is withheld, or the guard refuses it): a task in
    the queue for staff to listen to and close. Idempotent per call: a retried webhook finds the same task."""
    linked = session.scalars(select(CallbackCall).where(CallbackCall.call_sid == call_sid)).one_or_none()
    if linked is not None:
        existing = session.get(CallbackRequest, linked.callback_id)
        assert existing is not None
        return existing
    spec = window_specs(settings).get("asap") or WindowSpec(
        key="asap", within_minutes=settings.response_minutes_question
    )
    slot = resolve_window(spec, now)
    task = CallbackRequest(
        relative_id=None,
        open_for_relative=None,
        phone_number=None,
        priority=Priority.QUESTION.value,
        reason="voicemail",
        language=language,
        window_key=spec.key,
        window_start=slot.start_utc,
        window_end=slot.end_utc,
        due_at=due_time(Priority.QUESTION, slot, now, response_minutes(settings)),
        state=State.REQUESTED.value,
        recording_sid=recording_sid,
        created_at=now,
        updated_at=now,
    )
    _add_new(session, task, actor, now)
    _link(session, task, call_sid, now)
    return task


def _check_keyed_in_cap(
    session: Session, number: str, call_sid: str | None, recording_sid: str | None, now: datetime
) -> None:
    """Raise CallbackCapped (the refusal stored) when a keyed-in `number` had its callbacks for the day."""
    recent = session.scalar(
        select(func.count())
        .select_from(CallbackRequest)
        .where(CallbackRequest.keyed_in.is_(True), CallbackRequest.phone_number == number)
        .where(CallbackRequest.created_at > now - timedelta(days=1))
    )
    decision = keyed_in_allowed(
        recent or 0, outbox.send_caps(session).keyed_in_callbacks_per_day, "callbacks"
    )
    if decision.allowed:
        return
    earlier = session.scalars(select(CallbackRefusal).where(CallbackRefusal.call_sid == call_sid)).first()
    if call_sid and earlier is not None:  # refused earlier in this call, or a retried webhook: stored once
        earlier.recording_sid = earlier.recording_sid or recording_sid
        raise CallbackCapped(decision, earlier)
    refusal = CallbackRefusal(
        phone_number=number,
        call_sid=call_sid,
        recording_sid=recording_sid,
        reason=decision.reason.value,
        detail=decision.detail[:300],
        created_at=now,
    )
    session.add(refusal)
    session.flush()
    log.warning(
        "callback refused by a cap: %s",
        decision.detail,
        extra={"refusal": refusal.id, "to": mask_number(number), "call_sid": call_sid},
    )
    raise CallbackCapped(decision, refusal)


def refusals(session: Session, since: datetime) -> list[CallbackRefusal]:
    """The callbacks the caps refused since `since`, newest first."""
    return list(
        session.scalars(
            select(CallbackRefusal)
            .where(CallbackRefusal.created_at >= since)
            .order_by(CallbackRefusal.created_at.desc(), CallbackRefusal.id.desc())
        )
    )


def _link(session: Session, callback: CallbackRequest, call_sid: str | None, now: datetime) -> None:
    if call_sid:
        insert_ignore(
            session, CallbackCall, {"callback_id": callback.id, "call_sid": call_sid, "at": now}, ["call_sid"]
        )


def move(
    session: Session, callback: CallbackRequest, event: Event, actor: str, now: datetime | None = None
) -> OutboxText | None:
    """Apply `event` (raises routing's IllegalTransition when it does not apply), record who and when, and
    queue the relative's status text for that step in the same transaction; returns the text queued (None when
    the step has no text for the relative, or it was queued before)."""
    transition(State(callback.state), event)
    at = now or utcnow()
    step = _record_step(session, callback, event, actor, at)
    return outbox.callback_moved(session, callback, step, at)


def slot_of(callback: CallbackRequest) -> WindowSlot:
    """The window the relative was promised."""
    return WindowSlot(
        callback.window_start, callback.window_end, callback.window_key, asap=callback.window_key == "asap"
    )


def queue(session: Session, *, include_closed: bool = False) -> list[CallbackRequest]:
    """Open callbacks in working order: acute first, then earliest due, then oldest."""
    statement = select(CallbackRequest)
    if not include_closed:
        statement = statement.where(CallbackRequest.state.in_(OPEN_STATES))
    rows = list(session.scalars(statement))
    return sorted(rows, key=lambda c: (*queue_key(c.priority, c.due_at, c.created_at), c.id))


def add_note(session: Session, callback: CallbackRequest, advisor_id: str, text: str, now: datetime) -> None:
    """A note for whoever works the callback next (personal data: purged after `retention.notes_days`)."""
    session.add(
        CallbackAttempt(
            callback_id=callback.id,
            advisor_id=advisor_id,
            outcome="note",
            note=text,
            started_at=now,
            ended_at=now,
        )
    )


def notes_on(session: Session, callback_ids: list[int]) -> int:
    """How many notes are left on these callbacks (for the handover)."""
    if not callback_ids:
        return 0
    return len(
        session.scalars(
            select(CallbackAttempt.id).where(
                CallbackAttempt.callback_id.in_(callback_ids), CallbackAttempt.note.is_not(None)
            )
        ).all()
    )

"""Calling a relative back: Twilio rings the advisor first and, when they press 1, the relative.

`start` records the attempt and places the advisor's call; the webhooks in `hotline.twilio.callback_calls` walk the call and
record the outcome (reached, or not reached with the retry policy's next attempt).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.sections import CallbackSettings
from hotline.config.settings import Settings
from hotline.db.models import AdvisorRecord, CallbackAttempt, CallbackRequest, utcnow
from hotline.services import callback_queue, callback_work, outbox
from hotline.transport.base import Transport, TransportError
from routing.callbacks import Event, State, after_no_answer

log = logging.getLogger(__name__)


class CallbackError(Exception):
    """The callback cannot be started: `message_id` with `values` say why in the staff catalogue (for the
    console), the message says why and what to do on the command line."""

    def __init__(self, message_id: str, message: str, **values: object) -> None:
        super().__init__(message)
        self.message_id = message_id
        self.values = values


@dataclass(frozen=True)
class Started:
    attempt_id: int
    call_sid: str


class Dialer(Protocol):
    """What placing a callback needs of the running hotline (a Runtime is one): the attempt is committed before
    the advisor's phone rings, so this use case owns its transactions."""

    @property
    def settings(self) -> Settings: ...

    @property
    def sessions(self) -> sessionmaker[Session]: ...

    @property
    def transport(self) -> Transport: ...


def callback_url(settings: Settings, path: str, **params: object) -> str:
    """The webhook of an outbound callback's call (absolute: Twilio calls it for a call it placed)."""
    return settings.url(f"/twilio/callback{path}", **params)


def start(runtime: Dialer, callback_id: int, advisor_id: str, actor: str) -> Started:
    """Take callback `callback_id` for `advisor_id` and ring the advisor's phone."""
    with runtime.sessions.begin() as session:
        advisor = session.get(AdvisorRecord, advisor_id)
        if advisor is None or not advisor.active:
            raise CallbackError(
                "console.queue.error.no_advisor",
                f"advisor {advisor_id!r} is not in the roster; see `hotline roster export`",
                advisor=advisor_id,
            )
        now = utcnow()
        # One conditional UPDATE: of two starts at once (a double click, two advisors) only one rings a phone.
        callback = callback_work.claim(
            session, callback_id, advisor_id, now, states=(State.SCHEDULED.value,), dialable=True
        )
        if callback is None:
            raise _not_started(session, callback_id, advisor_id)
        callback_queue.move(session, callback, Event.START, actor, now)
        attempt = CallbackAttempt(callback_id=callback.id, advisor_id=advisor.id, started_at=utcnow())
        session.add(attempt)
        session.flush()
        attempt_id, advisor_phone = attempt.id, advisor.phone_number
    try:
        placed = runtime.transport.place_call(
            to=advisor_phone,
            from_=runtime.settings.file.service.hotline_number,
            url=callback_url(runtime.settings, "/advisor", attempt=attempt_id),
            status_callback=callback_url(runtime.settings, "/advisor-status", attempt=attempt_id),
            timeout_seconds=runtime.settings.file.escalation.step_timeout_seconds,
        )
    except TransportError as error:
        finish_unstarted(runtime, attempt_id, "call_failed", actor)
        raise CallbackError(
            "console.queue.error.transport", f"could not ring the advisor: {error.message}"
        ) from error
    with runtime.sessions.begin() as session:
        row = session.get(CallbackAttempt, attempt_id)
        assert row is not None
        row.advisor_call_sid = placed.sid
    log.info(
        "callback started", extra={"callback": callback_id, "attempt": attempt_id, "advisor": advisor_id}
    )
    return Started(attempt_id, placed.sid)


def _not_started(session: Session, callback_id: int, advisor_id: str) -> CallbackError:
    callback = session.get(CallbackRequest, callback_id, populate_existing=True)
    if callback is None:
        return CallbackError(
            "console.queue.error.missing",
            f"callback {callback_id} does not exist; see `hotline callbacks list`",
            callback=callback_id,
        )
    if callback.phone_number is None:
        return CallbackError(
            "console.queue.error.withheld",
            f"callback {callback_id} is a voicemail from a withheld number and cannot be dialled; listen "
            f"to recording {callback.recording_sid}, then close it: `hotline callbacks close {callback_id}`",
        )
    why = callback_work.refusal(session, callback_id, advisor_id)
    if callback.state != State.SCHEDULED.value:
        text = f"callback {callback_id} is {callback.state}; only a scheduled callback can be started"
    else:
        text = (
            f"callback {callback_id} is taken by {callback.assigned_advisor_id}; they can release it, or a "
            "manager can assign it in the console"
        )
    return CallbackError(why.message_id, text, **why.values)


def finish_unstarted(runtime: Dialer, attempt_id: int, outcome: str, actor: str) -> None:
    """The advisor never took the callback: the attempt ends and the callback goes back to the queue."""
    with runtime.sessions.begin() as session:
        attempt = session.get(CallbackAttempt, attempt_id)
        if attempt is None or not _settle(session, attempt, outcome, utcnow()):
            return
        callback = session.get(CallbackRequest, attempt.callback_id)
        if callback is not None and callback.state == State.IN_PROGRESS.value:
            callback_queue.move(session, callback, Event.RELEASE, actor)


def record_outcome(
    session: Session,
    attempt: CallbackAttempt,
    *,
    reached: bool,
    now: datetime,
    actor: str,
    settings: CallbackSettings,
) -> None:
    """Reached → done; not reached → the retry policy decides the next attempt or the end."""
    if not _settle(session, attempt, "reached" if reached else "not_reached", now):
        return  # a retried webhook, or the advisor recorded it by hand: already recorded
    callback = session.get(CallbackRequest, attempt.callback_id)
    if callback is None or callback.state != State.IN_PROGRESS.value:
        return
    if reached:
        callback_queue.move(session, callback, Event.ANSWERED, actor, now)
        return
    callback.attempts += 1
    outcome = after_no_answer(
        callback.attempts,
        now,
        callback_queue.slot_of(callback),
        callback_queue.retry_policy(settings),
        actor=actor,
        quiet=callback_queue.quiet_for(callback, settings),
    )
    for step in outcome.transitions:
        callback_queue.move(session, callback, step.event, step.actor, now)
    callback.next_attempt_at = outcome.next_attempt_at
    if outcome.final and callback.phone_number:  # no more tries: tell the relative, and how to ask again
        outbox.enqueue(
            session,
            capped=True,
            to=callback.phone_number,
            purpose="callback_given_up",
            language=callback.language,
            now=now,
            relative_id=callback.relative_id,
            callback_id=callback.id,
            dedup_key=outbox.callback_text_key(callback.id, "given_up"),
        )


def _settle(session: Session, attempt: CallbackAttempt, outcome: str, now: datetime) -> bool:
    """Record `outcome` on the attempt unless it has one: one conditional UPDATE, so the call's webhook and the
    advisor's own report cannot both count the same attempt. False when it was recorded before."""
    settled = session.execute(
        update(CallbackAttempt)
        .where(CallbackAttempt.id == attempt.id, CallbackAttempt.outcome.is_(None))
        .values(outcome=outcome, ended_at=now)
        .returning(CallbackAttempt.id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    session.refresh(attempt)
    return settled is not None


class Outcome(StrEnum):
    """What an advisor reports about a call in progress."""

    REACHED = "reached"  # they talked with the relative
    NOT_REACHED = "not_reached"  # the relative did not answer: the retry policy decides what follows
    NO_CALL = (
        "no_call"  # no call came about (the advisor's phone did not ring): back to the queue, no attempt used
    )


def record_by_hand(
    session: Session,
    callback_id: int,
    advisor_id: str,
    outcome: Outcome,
    *,
    now: datetime,
    actor: str,
    settings: CallbackSettings,
) -> bool:
    """The advisor's report on the callback they are calling; False when the call's own webhooks recorded its
    outcome first (nothing changes then). Raises QueueError when it is not theirs or not being called."""
    callback = session.get(CallbackRequest, callback_id)
    if callback is None:
        raise callback_work.QueueError("console.queue.error.missing", callback=callback_id)
    if callback.state != State.IN_PROGRESS.value:
        return False
    if callback.assigned_advisor_id != advisor_id:
        raise callback_work.QueueError("console.queue.error.taken")
    attempt = session.scalars(
        select(CallbackAttempt)
        .where(CallbackAttempt.callback_id == callback_id, CallbackAttempt.outcome.is_(None))
        .order_by(CallbackAttempt.id.desc())
    ).first()
    if attempt is None:
        return False
    if outcome is Outcome.NO_CALL:
        if not _settle(session, attempt, "no_call", now):
            return False
        session.refresh(callback)
        if callback.state == State.IN_PROGRESS.value:
            callback_queue.move(session, callback, Event.RELEASE, actor, now)
        return True
    before = attempt.outcome
    record_outcome(
        session, attempt, reached=outcome is Outcome.REACHED, now=now, actor=actor, settings=settings
    )
    return before is None and attempt.outcome == outcome.value

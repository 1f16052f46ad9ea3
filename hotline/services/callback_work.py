"""Working the callback queue: who holds which callback (take, assign, release), notes and closing, and the queue
as the console lists it.

Holding is decided in the database by one conditional UPDATE … RETURNING (`claim`), never by reading first and
writing after: two advisors pressing "tag" at the same moment — in two browsers, two gunicorn workers, on two
hosts — get one winner, and the other a QueueError saying someone else has it. PostgreSQL re-checks the WHERE
clause on the row as the winner committed it; SQLite runs one writer at a time. The claimed row stays locked
until the caller commits, so the state change that follows (`callback_queue.move`) cannot interleave either.

A callback's `assigned_advisor_id` with `taken_at` NULL is only the hotline's suggestion (the relative's
contact person): any advisor may take it. Once a person took or assigned it (`taken_at` set), only its holder
(or a manager) may change it. Functions take the session and do not commit; errors carry a staff-catalogue id.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from hotline.db.models import AdvisorRecord, CallbackAttempt, CallbackRequest
from hotline.services import callback_queue
from routing.callbacks import FINAL_STATES, Event, IllegalTransition, State, queue_key
from routing.numbers import mask_number

# An advisor works a callback in these states; `in_progress` is being dialled and belongs to whoever dials.
WORKABLE = (State.REQUESTED.value, State.SCHEDULED.value, State.NOT_REACHED.value)
NOTE_MAX = 2000
# How long a callback an advisor finished stays in their "mine" list, to add a note after the call.
RECENT = timedelta(hours=1)


class QueueError(Exception):
    """A refused step on the queue: `message_id` and `values` say why, in the staff catalogue."""

    def __init__(self, message_id: str, **values: object) -> None:
        super().__init__(message_id, values)
        self.message_id = message_id
        self.values = values


def claim(
    session: Session,
    callback_id: int,
    advisor_id: str,
    now: datetime,
    *,
    states: Collection[str] = WORKABLE,
    override: bool = False,
    dialable: bool = False,
) -> CallbackRequest | None:
    """Make `advisor_id` the holder of callback `callback_id` if it is in one of `states` and free (nobody
    took it, or they did themselves; anyone's with `override`); the callback, or None when it was not free.

    One conditional UPDATE … RETURNING: the row is locked until the caller commits."""
    statement = (
        update(CallbackRequest)
        .where(CallbackRequest.id == callback_id, CallbackRequest.state.in_(list(states)))
        .values(assigned_advisor_id=advisor_id, taken_at=now, updated_at=now)
        .returning(CallbackRequest.id)
        .execution_options(synchronize_session=False)
    )
    if not override:
        statement = statement.where(
            or_(CallbackRequest.taken_at.is_(None), CallbackRequest.assigned_advisor_id == advisor_id)
        )
    if dialable:
        statement = statement.where(CallbackRequest.phone_number.is_not(None))
    if session.execute(statement).scalar_one_or_none() is None:
        return None
    return session.get(CallbackRequest, callback_id, populate_existing=True)


def refusal(session: Session, callback_id: int, advisor_id: str | None) -> QueueError:
    """Why a claim on `callback_id` failed, as the callback stands now."""
    callback = session.get(CallbackRequest, callback_id, populate_existing=True)
    if callback is None:
        return QueueError("console.queue.error.missing", callback=callback_id)
    if State(callback.state) in FINAL_STATES:
        return QueueError("console.queue.error.closed", callback=callback_id)
    if callback.assigned_advisor_id not in (None, advisor_id) or callback.state == State.IN_PROGRESS.value:
        if callback.state == State.IN_PROGRESS.value and callback.assigned_advisor_id == advisor_id:
            return QueueError("console.queue.error.calling", callback=callback_id)
        return QueueError("console.queue.error.taken")
    return QueueError("console.queue.error.state", callback=callback_id, state=callback.state)


def take(session: Session, callback_id: int, advisor_id: str, now: datetime) -> CallbackRequest:
    """`advisor_id` takes the callback; QueueError("console.queue.error.taken") when someone else has it."""
    callback = claim(session, callback_id, advisor_id, now)
    if callback is None:
        raise refusal(session, callback_id, advisor_id)
    return callback


def assign(
    session: Session,
    callback_id: int,
    to_advisor: str,
    now: datetime,
    *,
    by_advisor: str | None,
    override: bool = False,
) -> CallbackRequest:
    """Give the callback to `to_advisor`: a free one or the holder's own (`by_advisor`), anyone's for a manager
    (`override`); never one being dialled."""
    advisor = session.get(AdvisorRecord, to_advisor)
    if advisor is None or not advisor.active:
        raise QueueError("console.queue.error.no_advisor", advisor=to_advisor)
    statement = (
        update(CallbackRequest)
        .where(CallbackRequest.id == callback_id, CallbackRequest.state.in_(WORKABLE))
        .values(assigned_advisor_id=to_advisor, taken_at=now, updated_at=now)
        .returning(CallbackRequest.id)
        .execution_options(synchronize_session=False)
    )
    if not override:
        statement = statement.where(
            or_(CallbackRequest.taken_at.is_(None), CallbackRequest.assigned_advisor_id == by_advisor)
        )
    if session.execute(statement).scalar_one_or_none() is None:
        raise refusal(session, callback_id, by_advisor)
    callback = session.get(CallbackRequest, callback_id, populate_existing=True)
    assert callback is not None
    return callback


def release(
    session: Session, callback_id: int, advisor_id: str | None, now: datetime, *, override: bool = False
) -> CallbackRequest:
    """Hand the callback back to the queue (nobody holds it): the holder's own, anyone's for a manager."""
    statement = (
        update(CallbackRequest)
        .where(CallbackRequest.id == callback_id, CallbackRequest.state.in_(WORKABLE))
        .values(assigned_advisor_id=None, taken_at=None, updated_at=now)
        .returning(CallbackRequest.id)
        .execution_options(synchronize_session=False)
    )
    if not override:
        statement = statement.where(
            or_(
                CallbackRequest.assigned_advisor_id == advisor_id,
                CallbackRequest.assigned_advisor_id.is_(None),
            )
        )
    if session.execute(statement).scalar_one_or_none() is None:
        raise refusal(session, callback_id, advisor_id)
    callback = session.get(CallbackRequest, callback_id, populate_existing=True)
    assert callback is not None
    return callback


def close(session: Session, callback_id: int, advisor_id: str, now: datetime, actor: str) -> CallbackRequest:
    """Close a callback that needs no call (a voicemail from a withheld number, once listened to; a relative
    who no longer needs it): it is taken by `advisor_id` and cancelled in one transaction."""
    callback = claim(session, callback_id, advisor_id, now)
    if callback is None:
        raise refusal(session, callback_id, advisor_id)
    try:
        callback_queue.move(session, callback, Event.CANCEL, actor, now)
    except IllegalTransition:  # pragma: no cover - claim only holds workable states, which can be cancelled
        raise QueueError("console.queue.error.state", callback=callback_id, state=callback.state) from None
    return callback


def note(session: Session, callback_id: int, advisor_id: str, text: str, now: datetime) -> CallbackRequest:
    """Leave a note on a callback, open or closed, for whoever works it next (counted in the handover)."""
    cleaned = text.strip()
    if not cleaned:
        raise QueueError("console.queue.error.empty_note")
    callback = session.get(CallbackRequest, callback_id)
    if callback is None:
        raise QueueError("console.queue.error.missing", callback=callback_id)
    callback_queue.add_note(session, callback, advisor_id, cleaned[:NOTE_MAX], now)
    return callback


@dataclass(frozen=True)
class QueueRow:
    """One callback as the queue lists it: nothing more of the relative than a masked number."""

    id: int
    relative_id: int | None
    priority: str
    reason: str
    state: str
    language: str
    window_key: str
    window_start: datetime
    window_end: datetime
    due_at: datetime
    attempts: int
    next_attempt_at: datetime | None
    masked_number: str | None  # None: a withheld number, which cannot be dialled
    recording_sid: str | None
    created_at: datetime
    assigned_advisor_id: str | None
    assigned_name: str | None
    taken: bool  # a person took it; otherwise the assignee is only the relative's contact person
    notes: int

    @property
    def open(self) -> bool:
        return State(self.state) not in FINAL_STATES

    @property
    def dialable(self) -> bool:
        return self.masked_number is not None

    def overdue(self, now: datetime) -> bool:
        return self.open and self.due_at < now


def listing(session: Session, *, advisor_id: str | None, mine: bool, now: datetime) -> list[QueueRow]:
    """The queue in working order (acute first, then due time): all open callbacks, or those `advisor_id`
    holds (`mine`), with their own callbacks closed in the last hour after them, to note how the call went."""
    condition: ColumnElement[bool]
    if mine:
        condition = (CallbackRequest.assigned_advisor_id == advisor_id) & or_(
            CallbackRequest.state.in_(callback_queue.OPEN_STATES),
            CallbackRequest.updated_at >= now - RECENT,
        )
    else:
        condition = CallbackRequest.state.in_(callback_queue.OPEN_STATES)
    rows = _rows(session, condition)
    return sorted(rows, key=lambda r: (not r.open, *queue_key(r.priority, r.due_at, r.created_at), r.id))


def row(session: Session, callback_id: int) -> QueueRow | None:
    """One callback, open or closed, as the queue shows it."""
    found = _rows(session, CallbackRequest.id == callback_id)
    return found[0] if found else None


def _rows(session: Session, condition: ColumnElement[bool]) -> list[QueueRow]:
    found = session.execute(
        select(CallbackRequest, AdvisorRecord.name)
        .outerjoin(AdvisorRecord, AdvisorRecord.id == CallbackRequest.assigned_advisor_id)
        .where(condition)
    ).all()
    ids = [callback.id for callback, _ in found]
    notes: dict[int, int] = {}
    if ids:
        notes = {
            callback_id: count
            for callback_id, count in session.execute(
                select(CallbackAttempt.callback_id, func.count())
                .where(CallbackAttempt.callback_id.in_(ids), CallbackAttempt.note.is_not(None))
                .group_by(CallbackAttempt.callback_id)
            )
        }
    return [
        QueueRow(
            id=c.id,
            relative_id=c.relative_id,
            priority=c.priority,
            reason=c.reason,
            state=c.state,
            language=c.language,
            window_key=c.window_key,
            window_start=c.window_start,
            window_end=c.window_end,
            due_at=c.due_at,
            attempts=c.attempts,
            next_attempt_at=c.next_attempt_at,
            masked_number=mask_number(c.phone_number) if c.phone_number else None,
            recording_sid=c.recording_sid,
            created_at=c.created_at,
            assigned_advisor_id=c.assigned_advisor_id,
            assigned_name=name,
            taken=c.taken_at is not None,
            notes=notes.get(c.id, 0),
        )
        for c, name in found
    ]


def history(session: Session, callback_id: int) -> list[CallbackAttempt]:
    """The callback's attempts and notes, oldest first."""
    return list(
        session.scalars(
            select(CallbackAttempt)
            .where(CallbackAttempt.callback_id == callback_id)
            .order_by(CallbackAttempt.id)
        )
    )


def active_advisors(session: Session) -> list[AdvisorRecord]:
    """The advisors a callback can be given to, by name."""
    return list(
        session.scalars(
            select(AdvisorRecord).where(AdvisorRecord.active.is_(True)).order_by(AdvisorRecord.name)
        )
    )

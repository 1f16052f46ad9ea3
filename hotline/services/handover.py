"""What one advisor's handover holds: the work that falls to them, not every case and note of everyone.

An open callback falls to advisor A when it is assigned to A, assigned to nobody, or assigned to someone who is
not on shift now (primary or backup in the roster in force), inactive or gone from the roster: then whoever is on
shift works it, as the clockwork's texts already assume (`staff_texts.first_on_call`). A callback held by a
colleague who is on shift now is theirs: it is counted, so A knows the queue is not empty, but its details and
notes are not shown. Every note left on a callback that falls to A is shown, whoever wrote it: that is what the
next person needs ("ring efter kl. 9").

Texts waiting: relatives' free-text questions (not keyword commands such as STOP or RING) from the last
`TEXTS_WINDOW`, from a relative whose contact person is A, nobody, or someone not on shift, and not since taken
up by a callback (none open, none worked after the text came). Their words and numbers are not on the page: the
link is its own credential, so it shows only when each text came and in which language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hotline.db.models import CallbackAttempt, CallbackRequest, HandoverRead, Message, Relative
from hotline.db.session import insert_ignore
from hotline.services import callback_queue
from hotline.services.staff_texts import SHIFT_LAYERS
from routing.oncall import oncall_at
from routing.roster import Roster
from sms.keywords import classify

TEXTS_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class WaitingText:
    received_at: datetime
    language: str | None


@dataclass(frozen=True)
class Handover:
    """Open callbacks in working order (acute first, then by due time), the notes on them by callback id (oldest
    first), how many open callbacks colleagues on shift hold, and the texts waiting (oldest first)."""

    callbacks: list[CallbackRequest]
    notes: dict[int, list[CallbackAttempt]] = field(default_factory=dict)
    with_colleagues: int = 0
    texts: list[WaitingText] = field(default_factory=list)


def on_shift(roster: Roster | None, now: datetime) -> set[str]:
    """The advisors on call in the primary or backup layer at `now`."""
    if roster is None:
        return set()
    return {e.advisor.id for e in oncall_at(roster, now) if e.layer in SHIFT_LAYERS}


@dataclass(frozen=True)
class Shift:
    """One stretch an advisor is on shift (primary or backup), as the roster gives it."""

    start: datetime
    end: datetime


def current_shift(roster: Roster | None, advisor_id: str, now: datetime) -> Shift | None:
    """The shift `advisor_id` is on at `now` (the earliest-starting one, if they are in two layers); None when
    they are not on shift."""
    if roster is None:
        return None
    shifts = [
        Shift(e.start, e.end)
        for e in oncall_at(roster, now)
        if e.layer in SHIFT_LAYERS and e.advisor.id == advisor_id
    ]
    return min(shifts, key=lambda s: s.start) if shifts else None


def read_at(session: Session, advisor_id: str, shift_start: datetime) -> datetime | None:
    """When `advisor_id` marked the handover of their shift starting at `shift_start` read; None: not yet."""
    return session.scalars(
        select(HandoverRead.read_at).where(
            HandoverRead.advisor_id == advisor_id, HandoverRead.shift_start == shift_start
        )
    ).first()


def mark_read(
    session: Session, advisor_id: str, shift_start: datetime, now: datetime, account_id: int | None
) -> bool:
    """Mark the handover of this shift read (once: a second mark keeps the first time); True when it was not."""
    return insert_ignore(
        session,
        HandoverRead,
        {"advisor_id": advisor_id, "shift_start": shift_start, "read_at": now, "account_id": account_id},
        ["advisor_id", "shift_start"],
    )


def _falls_to(advisor_id: str, holder: str | None, working: set[str]) -> bool:
    return holder is None or holder == advisor_id or holder not in working


def for_advisor(session: Session, roster: Roster | None, advisor_id: str, now: datetime) -> Handover:
    """The handover of `advisor_id` as things stand at `now`."""
    working = on_shift(roster, now)
    mine: list[CallbackRequest] = []
    with_colleagues = 0
    for callback in callback_queue.queue(session):
        if _falls_to(advisor_id, callback.assigned_advisor_id, working):
            mine.append(callback)
        else:
            with_colleagues += 1
    notes: dict[int, list[CallbackAttempt]] = {}
    if mine:
        for attempt in session.scalars(
            select(CallbackAttempt)
            .where(
                CallbackAttempt.callback_id.in_([c.id for c in mine]),
                CallbackAttempt.note.is_not(None),
            )
            .order_by(CallbackAttempt.id)
        ):
            notes.setdefault(attempt.callback_id, []).append(attempt)
    return Handover(mine, notes, with_colleagues, _texts_waiting(session, advisor_id, working, now))


def _texts_waiting(session: Session, advisor_id: str, working: set[str], now: datetime) -> list[WaitingText]:
    rows = session.execute(
        select(
            Message.created_at,
            Message.body,
            Message.relative_id,
            Relative.language,
            Relative.contact_person_id,
        )
        .outerjoin(Relative, Relative.id == Message.relative_id)
        .where(
            Message.direction == "inbound",
            Message.created_at >= now - TEXTS_WINDOW,
            Message.body.is_not(None),
        )
        .order_by(Message.created_at, Message.id)
    ).all()
    relative_ids = {row.relative_id for row in rows if row.relative_id is not None}
    taken_up: dict[int, list[CallbackRequest]] = {}
    if relative_ids:
        for callback in session.scalars(
            select(CallbackRequest).where(
                CallbackRequest.relative_id.in_(relative_ids),
                or_(
                    CallbackRequest.state.in_(callback_queue.OPEN_STATES),
                    CallbackRequest.updated_at >= now - TEXTS_WINDOW,
                ),
            )
        ):
            if callback.relative_id is not None:  # the query asks for relatives; a task without one has none
                taken_up.setdefault(callback.relative_id, []).append(callback)
    waiting: list[WaitingText] = []
    for row in rows:
        if classify(row.body or "") is not None:
            continue  # a keyword (STOP, RING, STATUS, ...): the hotline answered it itself
        if not _falls_to(advisor_id, row.contact_person_id, working):
            continue
        callbacks = taken_up.get(row.relative_id, []) if row.relative_id is not None else []
        if any(c.state in callback_queue.OPEN_STATES or c.updated_at >= row.created_at for c in callbacks):
            continue  # the relative's case is in the queue, or was worked after the text came
        waiting.append(WaitingText(row.created_at, row.language))
    return waiting

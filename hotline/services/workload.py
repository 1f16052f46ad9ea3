"""What waits for an advisor, counted for the console's first page: open callbacks (acute, theirs) and texts
from relatives that no advisor has answered, and where they stand in the roster right now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Subquery, func, or_, select, union_all
from sqlalchemy.orm import Session

from hotline.db.models import CallbackRequest, Message, OutboxText
from hotline.services import rosters
from hotline.services.callback_queue import OPEN_STATES
from routing.callbacks import Priority
from routing.oncall import oncall_at
from routing.roster import Layer

# The outbox purpose of a text an advisor writes to a relative from the console (services/threads.py): a
# relative's thread counts as answered once such a text was written after their newest one.
ADVISOR_REPLY = "advisor_reply"


@dataclass(frozen=True)
class OnCallNow:
    layer: Layer
    until: datetime


@dataclass(frozen=True)
class Workload:
    open_callbacks: int
    acute_callbacks: int
    mine: int
    unanswered_threads: int
    on_call: tuple[OnCallNow, ...]


def open_callback_counts(session: Session, advisor_id: str | None) -> tuple[int, int, int]:
    """(open, of them acute, of them assigned to `advisor_id`)."""
    rows = session.execute(
        select(CallbackRequest.priority, CallbackRequest.assigned_advisor_id, func.count())
        .where(CallbackRequest.state.in_(OPEN_STATES))
        .group_by(CallbackRequest.priority, CallbackRequest.assigned_advisor_id)
    ).all()
    total = sum(count for _, _, count in rows)
    acute = sum(count for priority, _, count in rows if priority == Priority.ACUTE.value)
    mine = sum(count for _, assigned, count in rows if advisor_id and assigned == advisor_id)
    return total, acute, mine


def answered_through() -> Subquery:
    """Per relative, the moment up to which their texts are answered: their newest advisor's reply, or the
    newest of their texts handed to a callback (RING, or turned into one in the console: the queue answers it).
    Automatic receipts do not answer a question."""
    replies = select(OutboxText.relative_id.label("relative_id"), OutboxText.created_at.label("at")).where(
        OutboxText.purpose == ADVISOR_REPLY, OutboxText.relative_id.is_not(None)
    )
    handed = select(Message.relative_id.label("relative_id"), Message.created_at.label("at")).where(
        Message.direction == "inbound", Message.callback_id.is_not(None), Message.relative_id.is_not(None)
    )
    either = union_all(replies, handed).subquery()
    return (
        select(either.c.relative_id, func.max(either.c.at).label("at"))
        .group_by(either.c.relative_id)
        .subquery()
    )


def waiting_texts() -> Select[Any]:
    """The relatives' texts that wait for an answer: inbound, in a thread, after `answered_through`."""
    answered = answered_through()
    return (
        select(Message)
        .outerjoin(answered, answered.c.relative_id == Message.relative_id)
        .where(Message.direction == "inbound", Message.relative_id.is_not(None))
        .where(or_(answered.c.at.is_(None), Message.created_at > answered.c.at))
    )


def unanswered_threads(session: Session) -> int:
    """Relatives whose newest text to the hotline is not answered yet (see `answered_through`)."""
    waiting = waiting_texts().with_only_columns(Message.relative_id).distinct().subquery()
    return int(session.execute(select(func.count()).select_from(waiting)).scalar_one())


def on_call_now(session: Session, advisor_id: str | None, now: datetime) -> tuple[OnCallNow, ...]:
    """The layers `advisor_id` is on call in at `now` (empty: not on call, or no roster)."""
    roster = rosters.current_roster(session)
    if roster is None or advisor_id is None:
        return ()
    return tuple(
        OnCallNow(entry.layer, entry.end)
        for entry in oncall_at(roster, now)
        if entry.advisor.id == advisor_id
    )


def workload(session: Session, advisor_id: str | None, now: datetime) -> Workload:
    total, acute, mine = open_callback_counts(session, advisor_id)
    return Workload(total, acute, mine, unanswered_threads(session), on_call_now(session, advisor_id, now))

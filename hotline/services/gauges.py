"""How the line stands right now, in a few cheap aggregate queries: texts waiting in the outbox, callbacks past
their promise, and which scheduler leads. Read at every `/metrics` scrape (hotline.monitoring)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.db.models import CallbackRequest, OutboxText, SchedulerHeartbeat
from hotline.services.callback_queue import OPEN_STATES
from hotline.services.outbox import PENDING

# Scheduler processes listed at most: one row per process start is kept, and only the newest matter.
RECENT_SCHEDULERS = 50


@dataclass(frozen=True)
class Leader:
    instance_id: str
    hostname: str
    beat_at: datetime


@dataclass(frozen=True)
class Gauges:
    pending_texts: int
    oldest_pending_text: datetime | None  # created_at of the oldest pending text
    overdue_callbacks: int
    leader: Leader | None  # the leader with the newest heartbeat, however old
    schedulers_alive: int  # scheduler processes (leading or standing by) with a fresh heartbeat


def read_gauges(session: Session, now: datetime, fresh: timedelta) -> Gauges:
    """The figures at `now`; a scheduler counts as alive when its heartbeat is younger than `fresh`."""
    pending, oldest = session.execute(
        select(func.count(), func.min(OutboxText.created_at)).where(OutboxText.state == PENDING)
    ).one()
    overdue = session.scalar(
        select(func.count()).where(CallbackRequest.state.in_(OPEN_STATES), CallbackRequest.due_at < now)
    )
    schedulers = session.execute(
        select(
            SchedulerHeartbeat.instance_id,
            SchedulerHeartbeat.hostname,
            SchedulerHeartbeat.is_leader,
            SchedulerHeartbeat.beat_at,
        )
        .order_by(SchedulerHeartbeat.beat_at.desc())
        .limit(RECENT_SCHEDULERS)
    ).all()
    leader = next(
        (Leader(row.instance_id, row.hostname, row.beat_at) for row in schedulers if row.is_leader), None
    )
    alive = sum(1 for row in schedulers if now - row.beat_at < fresh)
    return Gauges(int(pending), oldest, int(overdue or 0), leader, alive)

"""The retention settings as the console shows them (`/console/retention/`): every `retention.*_days` key with its
value, when the nightly purge runs next and when it last ran (with what it did), and how many erasures at Twilio
still wait."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.config.settings import Settings
from hotline.db.models import ClockworkRun, RemoteErasure
from routing.wallclock import local_date, wall_to_utc

PURGE_JOB = "purge"  # hotline.jobs.retention's mark in clockwork_runs


@dataclass(frozen=True)
class Overview:
    days: list[tuple[str, int]]  # (key, days), in the order of the settings
    next_purge: datetime
    last_purge: datetime | None
    last_summary: str | None
    pending_erasures: int
    failed_erasures: int


def overview(session: Session, settings: Settings, now: datetime) -> Overview:
    retention = settings.file.retention
    days = [
        (key, int(getattr(retention, key))) for key in type(retention).model_fields if key.endswith("_days")
    ]
    last = session.execute(
        select(ClockworkRun.ran_at, ClockworkRun.run_key, ClockworkRun.summary)
        .where(ClockworkRun.job == PURGE_JOB)
        .order_by(ClockworkRun.ran_at.desc())
        .limit(1)
    ).first()
    today = local_date(now)
    at = settings.file.jobs.purge_at
    # The purge runs once per local date, at or after `purge_at` (hotline.jobs.retention): today's if not done.
    if last is not None and last.run_key == today.isoformat():
        due = wall_to_utc(today + timedelta(days=1), at)
    else:
        due = max(wall_to_utc(today, at), now)  # past its time and not run yet: it runs within minutes
    pending = session.scalar(
        select(func.count()).select_from(RemoteErasure).where(RemoteErasure.done_at.is_(None))
    )
    failed = session.scalar(
        select(func.count()).select_from(RemoteErasure).where(RemoteErasure.outcome == "failed")
    )
    return Overview(
        days=days,
        next_purge=due,
        last_purge=last.ran_at if last is not None else None,
        last_summary=last.summary if last is not None else None,
        pending_erasures=pending or 0,
        failed_erasures=failed or 0,
    )

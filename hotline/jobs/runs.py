"""What makes a job safe to run late or twice: each piece of work is marked done in `clockwork_runs` in the
same transaction as the texts it writes, and daily jobs run once per local date, on the first run at or after
their local time of day, so a daylight-saving change neither skips nor doubles them.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time

from sqlalchemy.orm import Session

from hotline.db.models import (
    ClockworkRun,
)
from hotline.db.session import insert_ignore
from routing.wallclock import local_date, wall_to_utc

log = logging.getLogger(__name__)


def once(session: Session, job: str, key: str, now: datetime, summary: str | None = None) -> bool:
    """Mark `job`'s piece of work `key` done; False when it already was (by an earlier or a concurrent run)."""
    values = {"job": job, "run_key": key[:160], "summary": summary, "ran_at": now}
    return insert_ignore(session, ClockworkRun, values, ["job", "run_key"])


def daily_due(now: datetime, at: time) -> date | None:
    """Today's local date when a daily job at local time `at` is due at `now` (at or after it), else None."""
    today = local_date(now)
    return today if now >= wall_to_utc(today, at) else None

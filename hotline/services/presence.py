"""Which advisors are on a hotline call right now (from call status callbacks), so nobody is rung twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hotline.db.models import AdvisorRecord


def mark_busy(session: Session, advisor_id: str, call_sid: str, now: datetime) -> None:
    session.execute(
        update(AdvisorRecord)
        .where(AdvisorRecord.id == advisor_id)
        .values(busy_call_sid=call_sid, busy_since=now)
    )


def mark_free(session: Session, call_sid: str) -> None:
    """The call `call_sid` ended: whoever was on it is free again."""
    session.execute(
        update(AdvisorRecord)
        .where(AdvisorRecord.busy_call_sid == call_sid)
        .values(busy_call_sid=None, busy_since=None)
    )


def busy_advisors(session: Session, now: datetime, expiry: timedelta) -> set[str]:
    """Advisors on a call; a "busy" older than `expiry` is stale (a lost status callback) and ignored."""
    rows = session.execute(
        select(AdvisorRecord.id, AdvisorRecord.busy_since).where(AdvisorRecord.busy_since.is_not(None))
    ).all()
    return {advisor_id for advisor_id, since in rows if since is not None and now - since < expiry}

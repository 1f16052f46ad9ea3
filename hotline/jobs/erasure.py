"""Working the erasure queue through the transport: Twilio's copies of purged personal data are deleted or
redacted there. 404 means nothing is left: done. Network errors, timeouts, 429 and 5xx are retried with backoff
for as long as it takes; a refusal that retrying cannot fix is recorded as failed (see hotline.services.erasure).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from hotline.db.models import RemoteErasure
from hotline.runtime import Runtime
from hotline.services.erasure import FAILED
from hotline.transport.base import TransportError

log = logging.getLogger(__name__)


BATCH = 200

RETRY_FIRST = timedelta(minutes=5)


RETRY_MAX = timedelta(hours=6)


@dataclass
class ErasureReport:
    """What one run of the queue did: counts by outcome ("erased", "gone", "demo", "retrying", "failed")."""

    outcomes: Counter[str] = field(default_factory=Counter)

    @property
    def handled(self) -> int:
        return sum(self.outcomes.values())


def _retry_after(attempts: int) -> timedelta:
    doublings = min(max(attempts - 1, 0), 16)  # past the cap long before 2**16; keeps the product small
    return min(RETRY_FIRST * (1 << doublings), RETRY_MAX)


def erase_due(runtime: Runtime, now: datetime, *, limit: int = BATCH) -> ErasureReport:
    """Erase the queued copies that are due at `now` (one batch)."""
    report = ErasureReport()
    with runtime.sessions() as session:
        due = session.execute(
            select(RemoteErasure.id, RemoteErasure.kind, RemoteErasure.sid)
            .where(RemoteErasure.done_at.is_(None), RemoteErasure.next_attempt_at <= now)
            .order_by(RemoteErasure.next_attempt_at, RemoteErasure.id)
            .limit(limit)
        ).all()
    for erasure_id, kind, sid in due:
        outcome, error, permanent = _erase(runtime, kind, sid)
        with runtime.sessions.begin() as session:
            row = session.get(RemoteErasure, erasure_id)
            if row is None or row.done_at is not None:
                continue
            row.attempts += 1
            if error is None:
                row.done_at, row.outcome, row.last_error = now, outcome, None
            elif permanent:
                row.done_at, row.outcome, row.last_error = now, FAILED, error[:300]
                log.error("twilio refused an erasure", extra={"kind": kind, "sid": sid, "error": error})
            else:
                row.next_attempt_at, row.last_error = now + _retry_after(row.attempts), error[:300]
            report.outcomes[outcome] += 1
    return report


def _erase(runtime: Runtime, kind: str, sid: str) -> tuple[str, str | None, bool]:
    """(outcome, error or None, whether the error is permanent) for one erasure."""
    try:
        return runtime.transport.erase(kind=kind, sid=sid), None, False
    except TransportError as error:
        if error.permanent:
            return FAILED, error.message, True
        log.warning("erasure at twilio will be retried", extra={"kind": kind, "code": error.code})
        return "retrying", error.message, False
    except Exception as error:
        # A bug, not Twilio: erasing again is harmless, so it is retried like a network error.
        log.exception("erasure failed unexpectedly", extra={"kind": kind})
        return "retrying", f"{type(error).__name__}: unexpected; retried", False

"""Erasing what Twilio keeps for us once our own copy is purged: voicemail recordings are deleted, the bodies of
texts redacted, call logs deleted.

The nightly purge queues one row per (kind, SID) in its own transaction (`queue_purged`), so a purge that
commits never forgets an erasure; `erase_due` works the queue through the transport. Twilio answering 404 means
nothing is left there: done. Network errors, timeouts, 429 and 5xx are retried with backoff for as long as it
takes, because personal data must not stay at Twilio just because Twilio was unreachable one night; erasing
twice is harmless. A refusal that retrying cannot fix is recorded as failed and logged as an error, and
`hotline erasures` lists it for the operator.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from hotline.db import insert_ignore
from hotline.models import Call, Message, Recording, RemoteErasure
from hotline.runtime import Runtime
from hotline.transport.base import TransportError

log = logging.getLogger(__name__)

BATCH = 200
RETRY_FIRST = timedelta(minutes=5)
RETRY_MAX = timedelta(hours=6)
FAILED = "failed"


@dataclass
class ErasureReport:
    """What one run of the queue did: counts by outcome ("erased", "gone", "demo", "retrying", "failed")."""

    outcomes: Counter[str] = field(default_factory=Counter)

    @property
    def handled(self) -> int:
        return sum(self.outcomes.values())


def queue(session: Session, kind: str, sids: Iterable[str | None], now: datetime) -> int:
    """Queue the erasure of each SID of `kind` (once: a SID queued before is not queued again); how many new."""
    queued = 0
    for sid in sids:
        if sid and insert_ignore(
            session,
            RemoteErasure,
            {"kind": kind, "sid": sid, "attempts": 0, "next_attempt_at": now, "created_at": now},
            ["kind", "sid"],
        ):
            queued += 1
    return queued


def queue_purged(
    session: Session,
    now: datetime,
    *,
    recordings_before: datetime,
    bodies_before: datetime,
    calls_before: datetime,
) -> int:
    """Queue Twilio's copies of what the purge is about to blank (call before blanking, in the same session)."""
    recordings = session.scalars(
        select(Recording.recording_sid).where(
            Recording.received_at < recordings_before,
            or_(Recording.recording_url.is_not(None), Recording.from_number.is_not(None)),
        )
    )
    messages = session.scalars(
        select(Message.message_sid).where(
            Message.created_at < bodies_before, Message.body.is_not(None), Message.message_sid.is_not(None)
        )
    )
    calls = session.scalars(
        select(Call.call_sid).where(
            Call.created_at < calls_before, or_(Call.from_number.is_not(None), Call.to_number.is_not(None))
        )
    )
    return (
        queue(session, "recording", list(recordings), now)
        + queue(session, "message", list(messages), now)
        + queue(session, "call", list(calls), now)
    )


def _retry_after(attempts: int) -> timedelta:
    doublings = min(max(attempts - 1, 0), 16)  # past the cap long before 2**16; keeps the product small
    return min(RETRY_FIRST * 2**doublings, RETRY_MAX)


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


@dataclass(frozen=True)
class ErasureCounts:
    """The queue at a glance, for `hotline erasures`."""

    by_kind_and_outcome: dict[tuple[str, str], int]
    failed: list[RemoteErasure]


def counts(session: Session, *, failed_limit: int = 50) -> ErasureCounts:
    outcome = func.coalesce(RemoteErasure.outcome, "pending")
    rows = session.execute(
        select(RemoteErasure.kind, outcome, func.count()).group_by(RemoteErasure.kind, outcome)
    ).all()
    failed = list(
        session.scalars(
            select(RemoteErasure)
            .where(RemoteErasure.outcome == FAILED)
            .order_by(RemoteErasure.done_at.desc())
            .limit(failed_limit)
        )
    )
    return ErasureCounts({(kind, state): count for kind, state, count in rows}, failed)


def retry_failed(session: Session, now: datetime) -> int:
    """Put refused erasures back in the queue (after the operator fixed the cause, e.g. the credentials)."""
    result = session.execute(
        update(RemoteErasure)
        .where(RemoteErasure.outcome == FAILED)
        .values(done_at=None, outcome=None, next_attempt_at=now)
        .returning(RemoteErasure.id)
        .execution_options(synchronize_session=False)
    )
    return len(result.all())

"""Erasing what Twilio keeps for us once our own copy is purged: voicemail recordings are deleted, the bodies of
texts redacted, call logs deleted.

The nightly purge queues one row per (kind, SID) in its own transaction (`queue_purged`), so a purge that
commits never forgets an erasure; `hotline.jobs.erasure` works the queue through the transport. Twilio answering 404 means
nothing is left there: done. Network errors, timeouts, 429 and 5xx are retried with backoff for as long as it
takes, because personal data must not stay at Twilio just because Twilio was unreachable one night; erasing
twice is harmless. A refusal that retrying cannot fix is recorded as failed and logged as an error, and
`hotline erasures` lists it for the operator.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from hotline.db.models import Call, Message, Recording, RemoteErasure
from hotline.db.session import insert_ignore

log = logging.getLogger(__name__)

FAILED = "failed"


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

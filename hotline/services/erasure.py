"""Erasing what Twilio keeps for us once our own copy is purged: voicemail recordings are deleted, the bodies of
texts redacted, texts' records (with their numbers) and call logs deleted.

The nightly purge queues one row per (kind, SID) in its own transaction (`queue_purged`), so a purge that
commits never forgets an erasure; `hotline.jobs.erasure` works the queue through the transport. Twilio answering 404 means
nothing is left there: done. Network errors, timeouts, 429 and 5xx are retried with backoff for as long as it
takes, because personal data must not stay at Twilio just because Twilio was unreachable one night; erasing
twice is harmless. A refusal that retrying cannot fix is recorded as failed and logged as an error, and
`hotline erasures` lists it for the operator.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from hotline.db.models import Call, Message, Recording, RemoteErasure
from hotline.db.session import insert_ignore
from hotline.services.pseudonyms import holds_number

log = logging.getLogger(__name__)

FAILED = "failed"
BATCH = 500  # rows read per statement while queueing


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
    message_records_before: datetime,
    calls_before: datetime,
) -> int:
    """Queue Twilio's copies of what the purge is about to blank (call before blanking, in the same session)."""
    return (
        _queue_selected(
            session,
            "recording",
            Recording.id,
            Recording.recording_sid,
            [
                Recording.received_at < recordings_before,
                or_(Recording.recording_url.is_not(None), Recording.from_number.is_not(None)),
            ],
            now,
        )
        + _queue_selected(
            session,
            "message",
            Message.id,
            Message.message_sid,
            [Message.created_at < bodies_before, Message.body.is_not(None), Message.message_sid.is_not(None)],
            now,
        )
        + _queue_selected(
            session,
            "message_record",
            Message.id,
            Message.message_sid,
            [
                Message.created_at < message_records_before,
                Message.message_sid.is_not(None),
                or_(holds_number(Message.from_number), holds_number(Message.to_number)),
            ],
            now,
        )
        + _queue_selected(
            session,
            "call",
            Call.id,
            Call.call_sid,
            [
                Call.created_at < calls_before,
                or_(holds_number(Call.from_number), holds_number(Call.to_number)),
            ],
            now,
        )
    )


def _queue_selected(
    session: Session,
    kind: str,
    key: InstrumentedAttribute[int],
    sid: InstrumentedAttribute[Any],
    where: Sequence[ColumnElement[bool]],
    now: datetime,
) -> int:
    """Queue the SIDs of the rows `where` selects, BATCH rows at a time (never the whole table in memory)."""
    queued, last = 0, 0
    while rows := session.execute(
        select(key, sid).where(key > last, *where).order_by(key).limit(BATCH)
    ).all():
        queued += queue(session, kind, [row[1] for row in rows], now)
        last = rows[-1][0]
    return queued


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

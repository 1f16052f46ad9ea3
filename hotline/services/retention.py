"""Personal data past its retention (config.yaml `retention`): blanked here, and Twilio's copies queued for
erasure in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from hotline.config.settings import Settings
from hotline.db.models import (
    Call,
    CallbackAttempt,
    CallbackRefusal,
    CallbackRequest,
    DemoOutbound,
    Message,
    OutboxText,
    Recording,
)
from hotline.services import erasure

log = logging.getLogger(__name__)


@dataclass
class Purged:
    """How many items of each kind of personal data one purge removed (the rows, and so the counts, remain)."""

    message_bodies: int = 0
    outbox_bodies: int = 0
    demo_bodies: int = 0
    recordings: int = 0
    callback_recordings: int = 0
    notes: int = 0
    refused_callbacks: int = 0
    call_numbers: int = 0
    twilio_erasures_queued: int = 0

    def summary(self) -> str:
        return ", ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))


def purge_personal_data(session: Session, settings: Settings, now: datetime) -> Purged:
    """Blank message bodies, recording references, notes and call records' numbers past their retention."""
    retention = settings.file.retention
    bodies = now - timedelta(days=retention.message_bodies_days)
    recordings = now - timedelta(days=retention.recordings_days)
    notes = now - timedelta(days=retention.notes_days)
    calls = now - timedelta(days=retention.call_records_days)

    def blank(model: Any, age: Any, cutoff: datetime, columns: Sequence[Any], stamped: bool = False) -> int:
        """Set `columns` to NULL on rows older than `cutoff` that still hold any of them; how many rows."""
        values: dict[str, Any] = {column.key: None for column in columns}
        if stamped:
            values["body_purged_at"] = now
        statement = (
            update(model)
            .where(age < cutoff, or_(*(column.is_not(None) for column in columns)))
            .values(**values)
            .returning(model.id)
            .execution_options(synchronize_session=False)
        )
        return len(session.execute(statement).all())

    # Twilio's copies of the same data are queued for erasure first, in this transaction (hotline.services.erasure).
    queued = erasure.queue_purged(
        session, now, recordings_before=recordings, bodies_before=bodies, calls_before=calls
    )
    return Purged(
        twilio_erasures_queued=queued,
        message_bodies=blank(Message, Message.created_at, bodies, [Message.body], stamped=True),
        outbox_bodies=blank(OutboxText, OutboxText.created_at, bodies, [OutboxText.body], stamped=True),
        demo_bodies=blank(DemoOutbound, DemoOutbound.created_at, bodies, [DemoOutbound.body]),
        recordings=blank(
            Recording, Recording.received_at, recordings, [Recording.recording_url, Recording.from_number]
        ),
        callback_recordings=blank(
            CallbackRequest, CallbackRequest.created_at, recordings, [CallbackRequest.recording_sid]
        ),
        notes=blank(CallbackAttempt, CallbackAttempt.started_at, notes, [CallbackAttempt.note]),
        call_numbers=blank(Call, Call.created_at, calls, [Call.from_number, Call.to_number]),
        refused_callbacks=blank(
            CallbackRefusal,
            CallbackRefusal.created_at,
            calls,
            [CallbackRefusal.phone_number, CallbackRefusal.call_sid, CallbackRefusal.recording_sid],
        ),
    )

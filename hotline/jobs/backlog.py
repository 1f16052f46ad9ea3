"""What arrived but was not handled yet: voicemails and texts spooled to disk while the database was down, and
incoming texts stored but not acted on (a failed first try). Both are safe to run again: imports are idempotent
by Twilio's SID, and a text is handled once (its row is locked and marked handled in the same transaction).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update

from hotline.db.models import ClockworkRun, Message, Recording
from hotline.jobs.runs import once
from hotline.runtime import Runtime
from hotline.services import inbox, relatives, voicemails

log = logging.getLogger(__name__)


def handle_backlog(runtime: Runtime, now: datetime) -> int:
    """Act on incoming texts stored but not handled (taken while the database was down, or a failed first try)."""
    with runtime.sessions() as session:
        pending = session.scalars(
            select(Message.id)
            .where(Message.direction == "inbound", Message.handled_at.is_(None))
            .order_by(Message.id)
            .limit(inbox.BACKLOG_BATCH)
        ).all()
    handled = 0
    for message_id in pending:
        try:
            with runtime.sessions.begin() as session:
                rows = select(Message).where(Message.id == message_id, Message.handled_at.is_(None))
                message = session.scalars(rows.with_for_update(skip_locked=True)).one_or_none()
                if message is not None:
                    inbox.handle(session, runtime.settings, message, now)
                    handled += 1
        except Exception:
            log.exception(
                "an incoming text could not be handled; kept for the advisors", extra={"id": message_id}
            )
            with runtime.sessions.begin() as session:
                session.execute(update(Message).where(Message.id == message_id).values(handled_at=now))
    return handled


# Voicemails filed into the callback queue per run of the job.
VOICEMAIL_BATCH = 100


def file_voicemails(runtime: Runtime, now: datetime) -> int:
    """Voicemails the fallback answer took (imported from the spool) into the callback queue, each once: every
    message is a task for staff, with or without a number to call back."""
    settings = runtime.settings
    filed = select(ClockworkRun.run_key).where(ClockworkRun.job == "voicemail_filed")
    with runtime.sessions.begin() as session:
        rows = session.scalars(
            select(Recording)
            .where(Recording.source == "fallback", Recording.recording_sid.not_in(filed))
            .order_by(Recording.id)
            .limit(VOICEMAIL_BATCH)
        ).all()
        for recording in rows:
            if not once(session, "voicemail_filed", recording.recording_sid, now):
                continue
            known = relatives.find(session, recording.from_number)
            voicemails.file_voicemail(
                session,
                recording_sid=recording.recording_sid,
                call_sid=recording.call_sid,
                number=recording.from_number,
                language=known.language if known and known.language else runtime.languages.default,
                settings=settings.file.callbacks,
                policy=runtime.policy,
                now=now,
                actor="system:voicemail",
            )
    return len(rows)

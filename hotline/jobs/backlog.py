"""What arrived but was not handled yet: voicemails and texts spooled to disk while the database was down, and
incoming texts stored but not acted on (a failed first try). Both are safe to run again: imports are idempotent
by Twilio's SID, and a text is handled once (its row is locked and marked handled in the same transaction).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update

from hotline.db.models import Message
from hotline.runtime import Runtime
from hotline.services import inbox

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

"""Recording texts and their delivery callbacks; a retried webhook is handled once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.db.models import Message, utcnow
from hotline.db.session import insert_ignore
from routing.numbers import is_withheld, normalize_number

# Twilio's message statuses by progress. Final ones never change again ("delivered stays delivered"), except that
# "read" (WhatsApp/RCS) may follow "delivered".
MESSAGE_STATUS_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "receiving": 3,
    "received": 4,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "canceled": 4,
    "read": 5,
}

# Twilio caps a text at 1,600 characters; we keep a margin for odd encodings and refuse nothing.
MAX_STORED_BODY = 4096


@dataclass(frozen=True)
class InboundMessage:
    message_sid: str
    from_raw: str | None
    to_raw: str | None
    body: str
    num_media: int = 0


def record_inbound_message(session: Session, message: InboundMessage) -> tuple[Message, bool]:
    """Store an incoming text unless its MessageSid is known; returns (row, created). The body is kept as sent."""
    from_number = None if is_withheld(message.from_raw) else normalize_number(message.from_raw)
    if from_number is None and not is_withheld(message.from_raw):
        from_number = (message.from_raw or "")[:32]  # alphanumeric senders and short codes, kept as they are
    created = insert_ignore(
        session,
        Message,
        {
            "message_sid": message.message_sid,
            "direction": "inbound",
            "from_number": from_number,
            "to_number": normalize_number(message.to_raw),
            # PostgreSQL text cannot hold NUL; no phone sends one, so it becomes U+FFFD rather than an error.
            "body": message.body[:MAX_STORED_BODY].replace("\x00", "\ufffd"),
            "num_media": message.num_media,
            "status": "received",
            "created_at": utcnow(),
            "updated_at": utcnow(),
        },
        ["message_sid"],
    )
    row = session.scalars(select(Message).where(Message.message_sid == message.message_sid)).one()
    return row, created


def apply_message_status(session: Session, message_sid: str, status: str, error_code: str | None) -> bool:
    """Move a text forward to `status`; an unknown SID, unknown status or a step backwards changes nothing."""
    row = session.scalars(select(Message).where(Message.message_sid == message_sid)).one_or_none()
    new_rank = MESSAGE_STATUS_RANK.get(status)
    if row is None or new_rank is None:
        return False
    old_rank = MESSAGE_STATUS_RANK.get(row.status, 0)
    if new_rank <= old_rank or (old_rank == 4 and status != "read"):
        return False
    row.status = status
    if error_code:
        row.error_code = error_code[:16]
    row.updated_at = utcnow()
    return True

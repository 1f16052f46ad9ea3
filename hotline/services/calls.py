"""Recording calls and their status callbacks; idempotent, so a retried webhook changes nothing twice."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.db.models import Call, CallEvent, utcnow
from hotline.db.session import insert_ignore
from routing.numbers import is_withheld, normalize_number

# Twilio's call statuses by how far along they are; a late or repeated callback never moves a call backwards.
CALL_STATUS_RANK = {
    "queued": 0,
    "initiated": 1,
    "ringing": 2,
    "in-progress": 3,
    "answered": 3,
    "completed": 4,
    "busy": 4,
    "failed": 4,
    "no-answer": 4,
    "canceled": 4,
}
FINAL_STATUSES = frozenset(s for s, rank in CALL_STATUS_RANK.items() if rank == 4)


@dataclass(frozen=True)
class InboundCall:
    call_sid: str
    from_raw: str | None
    to_raw: str | None
    status: str
    direction: str = "inbound"


def record_call(session: Session, call: InboundCall) -> tuple[Call, bool]:
    """Insert the call unless Twilio already told us about it; returns (row, created)."""
    withheld = is_withheld(call.from_raw)
    from_number = None if withheld else (normalize_number(call.from_raw) or (call.from_raw or "")[:32])
    created = insert_ignore(
        session,
        Call,
        {
            "call_sid": call.call_sid,
            "direction": call.direction[:24],
            "from_number": from_number,
            "caller_withheld": withheld,
            "to_number": normalize_number(call.to_raw),
            "status": call.status if call.status in CALL_STATUS_RANK else "ringing",
            "created_at": utcnow(),
            "updated_at": utcnow(),
        },
        ["call_sid"],
    )
    row = session.scalars(select(Call).where(Call.call_sid == call.call_sid)).one()
    return row, created


def add_event(session: Session, call: Call, kind: str, detail: str = "") -> bool:
    """Note something that happened to `call`; the same (kind, detail) twice is recorded once."""
    return insert_ignore(
        session,
        CallEvent,
        {"call_id": call.id, "kind": kind, "detail": detail[:200], "at": utcnow()},
        ["call_id", "kind", "detail"],
    )


def apply_call_status(session: Session, call: Call, status: str, duration: str | None) -> bool:
    """Move `call` forward to `status`; returns False when the update would move it backwards or is unknown."""
    add_event(session, call, "status", status)
    new_rank = CALL_STATUS_RANK.get(status)
    if new_rank is None or new_rank < CALL_STATUS_RANK.get(call.status, 0) or call.status in FINAL_STATUSES:
        return False
    call.status = status
    if status in FINAL_STATUSES:
        call.ended_at = call.ended_at or utcnow()
        if duration and duration.isascii() and duration.isdigit():
            call.duration_seconds = int(duration)
    return True

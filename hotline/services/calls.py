"""Recording calls and their status callbacks; idempotent, so a retried webhook changes nothing twice."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from hotline.db.models import Call, CallEvent, utcnow
from hotline.db.session import insert_ignore
from routing.numbers import ParsedNumber, is_withheld, normalize_number, parse_number

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


# The number an inbound call was made to is the hotline's own (a handful per installation, no personal data):
# normalised once per process.
_hotline_number = lru_cache(maxsize=16)(normalize_number)


@dataclass(frozen=True)
class InboundCall:
    """A call as Twilio announces it; its numbers are parsed once, when first asked for (the edge)."""

    call_sid: str
    from_raw: str | None
    to_raw: str | None
    status: str
    direction: str = "inbound"

    @cached_property
    def withheld(self) -> bool:
        return is_withheld(self.from_raw)

    @cached_property
    def caller(self) -> ParsedNumber | None:
        """The caller's number parsed, or None when withheld or not a phone number."""
        return None if self.withheld else parse_number(self.from_raw)

    @property
    def caller_number(self) -> str | None:
        """The caller's number in E.164, or None when withheld or not a phone number."""
        return self.caller.e164 if self.caller is not None else None

    @property
    def from_number(self) -> str | None:
        """What the call row keeps as `from_number`: E.164, else what Twilio sent (cut short), else None."""
        if self.withheld:
            return None
        return self.caller_number or (self.from_raw or "")[:32]

    @property
    def masked_from(self) -> str:
        """The caller's number for logs."""
        if self.withheld:
            return "withheld"
        return self.caller.masked if self.caller is not None else "***"


def insert_call(session: Session | Connection, call: InboundCall) -> bool:
    """Insert the call unless Twilio already told us about it (one statement); True when this inserted it."""
    now = utcnow()
    return insert_ignore(
        session,
        Call,
        {
            "call_sid": call.call_sid,
            "direction": call.direction[:24],
            "from_number": call.from_number,
            "caller_withheld": call.withheld,
            "to_number": _hotline_number(call.to_raw)
            if call.direction == "inbound"
            else normalize_number(call.to_raw),
            "status": call.status if call.status in CALL_STATUS_RANK else "ringing",
            "created_at": now,
            "updated_at": now,
        },
        ["call_sid"],
    )


def record_call(session: Session, call: InboundCall) -> tuple[Call, bool]:
    """Insert the call unless Twilio already told us about it; returns (row, created)."""
    created = insert_call(session, call)
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

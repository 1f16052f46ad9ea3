"""The opt-out registry: numbers that texted STOP (or that Twilio reports unsubscribed, error 21610). No text goes
to them until they text START; the outbox checks it at sending time, so every kind of text honours it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from hotline.db.models import SmsOptOut
from hotline.db.session import insert_ignore


def is_opted_out(session: Session, number: str) -> bool:
    return session.get(SmsOptOut, number) is not None


def opted_out_since(session: Session, number: str) -> datetime | None:
    """When `number` opted out; None while it receives texts."""
    row = session.get(SmsOptOut, number)
    return row.opted_out_at if row is not None else None


def opt_out(
    session: Session, number: str, *, source: str, now: datetime, message_sid: str | None = None
) -> bool:
    """Put `number` in the registry; True when it was not there before."""
    return insert_ignore(
        session,
        SmsOptOut,
        {"phone_number": number, "source": source[:32], "message_sid": message_sid, "opted_out_at": now},
        ["phone_number"],
    )


def opt_in(session: Session, number: str) -> bool:
    """Take `number` out of the registry; True when it was there."""
    result = session.execute(
        delete(SmsOptOut).where(SmsOptOut.phone_number == number).returning(SmsOptOut.phone_number)
    )
    return result.first() is not None

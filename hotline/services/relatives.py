"""Relatives known by phone number, and what the hotline remembers about them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.db.models import Relative, utcnow
from hotline.db.session import insert_ignore


def find_or_create(session: Session, phone_number: str) -> tuple[Relative, bool]:
    """The relative with this E.164 number, created on first contact; returns (relative, created)."""
    now = utcnow()
    created = insert_ignore(
        session,
        Relative,
        {"phone_number": phone_number, "created_at": now, "last_contact_at": now},
        ["phone_number"],
    )
    relative = session.scalars(select(Relative).where(Relative.phone_number == phone_number)).one()
    relative.last_contact_at = now
    return relative, created


def find(session: Session, phone_number: str | None) -> Relative | None:
    if not phone_number:
        return None
    return session.scalars(select(Relative).where(Relative.phone_number == phone_number)).one_or_none()


def contact_person(relative: Relative | None) -> str | None:
    """The advisor to try first: the assigned contact person, else the one who last helped them."""
    if relative is None:
        return None
    return relative.contact_person_id or relative.last_advisor_id

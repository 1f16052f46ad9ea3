"""Relatives known by phone number, and what the hotline remembers about them."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Connection, Executable, Table, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from hotline.db.models import Call, Relative, utcnow
from hotline.db.session import insert_ignore

# Built once: the greeting asks for the language on every call, and a chosen language is kept in two statements.
# Core statements on the tables (not the ORM entities): the session runs them without the ORM's compile step.
_CALLS = cast(Table, Call.__table__)
_RELATIVES = cast(Table, Relative.__table__)
_LANGUAGE_OF = select(_RELATIVES.c.language).where(_RELATIVES.c.phone_number == bindparam("number"))
_LINK_CALL = update(_CALLS).where(_CALLS.c.call_sid == bindparam("sid")).values(relative_id=bindparam("rid"))


def _keep_language_statement(dialect: str) -> Executable:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(_RELATIVES)
    return statement.on_conflict_do_update(
        index_elements=["phone_number"],
        set_={"language": statement.excluded.language, "last_contact_at": statement.excluded.last_contact_at},
    ).returning(_RELATIVES.c.id)


_KEEP_LANGUAGE = {dialect: _keep_language_statement(dialect) for dialect in ("sqlite", "postgresql")}


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


def remembered_language(session: Session | Connection, phone_number: str | None) -> str | None:
    """The language the relative with this number chose on an earlier call (one small statement), if any."""
    if not phone_number:
        return None
    language: str | None = session.execute(_LANGUAGE_OF, {"number": phone_number}).scalar()
    return language


def keep_language(session: Session, phone_number: str, language: str, call_sid: str) -> int:
    """Remember the caller's chosen language by their E.164 number (the relative created on first contact) and
    tie the call to them: two statements. Returns the relative's id."""
    now = utcnow()
    statement = _KEEP_LANGUAGE[session.get_bind().dialect.name]
    relative_id: int = session.execute(
        statement,
        {"phone_number": phone_number, "language": language, "created_at": now, "last_contact_at": now},
    ).scalar_one()
    session.execute(_LINK_CALL, {"sid": call_sid, "rid": relative_id})
    return relative_id


def contact_person(relative: Relative | None) -> str | None:
    """The advisor to try first: the assigned contact person, else the one who last helped them."""
    if relative is None:
        return None
    return relative.contact_person_id or relative.last_advisor_id

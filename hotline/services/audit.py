"""The audit log: who signed in or out, who viewed or changed which relative's data, and when.

Every console page that shows or changes a relative's data calls `record` in the transaction that reads or
writes it, so a view that is not logged did not happen. Rows hold ids and short descriptions, never a phone
number or a message body.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.db.models import AuditEntry, utcnow


class Action(StrEnum):
    SIGNED_IN = "signed_in"
    SIGN_IN_FAILED = "sign_in_failed"
    LOCKED_OUT = "locked_out"
    SIGNED_OUT = "signed_out"
    VIEWED = "viewed"
    CHANGED = "changed"
    ROSTER_CHANGED = "roster_changed"  # subject: the new roster version's id; detail: what changed
    EXPORTED = "exported"  # personal data taken out of the console (a CSV, JSON or zip export)
    ERASED = "erased"


def record(
    session: Session,
    *,
    actor: str,
    action: Action,
    account_id: int | None = None,
    relative_id: int | None = None,
    subject: str | None = None,
    detail: str | None = None,
    remote_addr: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add one row to the audit log (the caller's transaction commits it)."""
    entry = AuditEntry(
        at=at or utcnow(),
        account_id=account_id,
        actor=actor[:100],
        action=action.value,
        relative_id=relative_id,
        subject=subject[:100] if subject else None,
        detail=detail[:300] if detail else None,
        remote_addr=remote_addr[:64] if remote_addr else None,
    )
    session.add(entry)
    return entry


def entries(
    session: Session, *, relative_id: int | None = None, account_id: int | None = None, limit: int = 100
) -> list[AuditEntry]:
    """The newest rows first, for one relative or one account when given."""
    statement = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if relative_id is not None:
        statement = statement.where(AuditEntry.relative_id == relative_id)
    if account_id is not None:
        statement = statement.where(AuditEntry.account_id == account_id)
    return list(session.scalars(statement))

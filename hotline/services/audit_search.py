"""The audit log searched, for managers and the data-protection officer: by period, actor, action, relative and
subject, newest first, a page at a time, and the same rows exported.

Index-friendly: the period is a range on `audit_log.at`, the actor an equality on `actor` (or `account_id`), the
relative an IN on `relative_id`, all indexed; the order is (at, id) descending and a page goes on from the last
row shown (keyset, not OFFSET), so page 100 costs what page 1 costs.

A relative is searched by phone number: the number (normalised at the edge) is turned into the relative ids that
held it — the relative with the number now, the one with its pseudonym (purged or erased), and any relative an
erasure request named by that pseudonym (`data_requests`) — and only the ids go further. The number itself is
never stored, logged or put in a URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from hotline.db.models import AuditEntry, DataRequest, Relative
from hotline.services.pseudonyms import pseudonym

PAGE = 50
EXPORT_LIMIT = 100_000  # rows in one export; a longer period is exported in parts
COLUMNS = ("id", "at", "actor", "account_id", "action", "relative_id", "subject", "detail", "remote_addr")


@dataclass(frozen=True)
class AuditQuery:
    """What to look for; None (or empty) means any. `since` inclusive, `until` exclusive, both UTC."""

    since: datetime | None = None
    until: datetime | None = None
    actor: str | None = None
    action: str | None = None
    relative_ids: tuple[int, ...] = ()
    subject: str | None = None


def relative_ids_for_number(session: Session, number: str, key: bytes) -> tuple[int, ...]:
    """Every relative id that ever stood for `number` (E.164): now, as its pseudonym, or named by a request."""
    alias = pseudonym(key, number)
    held = session.scalars(select(Relative.id).where(Relative.phone_number.in_([number, alias])))
    requested = session.scalars(
        select(DataRequest.relative_id).where(
            DataRequest.number_pseudonym == alias, DataRequest.relative_id.is_not(None)
        )
    )
    return tuple(sorted({*held, *(rid for rid in requested if rid is not None)}))


def _conditions(query: AuditQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if query.since is not None:
        where.append(AuditEntry.at >= query.since)
    if query.until is not None:
        where.append(AuditEntry.at < query.until)
    if query.actor:
        where.append(AuditEntry.actor == query.actor.strip().lower())
    if query.action:
        where.append(AuditEntry.action == query.action)
    if query.relative_ids:
        where.append(AuditEntry.relative_id.in_(query.relative_ids))
    if query.subject:
        # A prefix: "callback" finds callback:12 and callback:13; the other conditions narrow it by index first.
        where.append(AuditEntry.subject.startswith(query.subject.strip(), autoescape=True))
    return where


def _statement(query: AuditQuery) -> Select[Any]:
    return select(AuditEntry).where(*_conditions(query)).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


def page(
    session: Session, query: AuditQuery, *, after: int | None = None, size: int = PAGE
) -> tuple[list[AuditEntry], int | None]:
    """One page of rows, newest first, continuing after row `after` (the last of the page before); and the id
    to continue after for the next page (None on the last page)."""
    statement = _statement(query)
    if after is not None:
        last = session.get(AuditEntry, after)
        if last is not None:
            statement = statement.where(
                or_(AuditEntry.at < last.at, and_(AuditEntry.at == last.at, AuditEntry.id < last.id))
            )
    rows: list[AuditEntry] = list(session.scalars(statement.limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    return rows, (rows[-1].id if more and rows else None)


def rows(session: Session, query: AuditQuery, *, limit: int = EXPORT_LIMIT) -> list[AuditEntry]:
    """The rows for an export, newest first (at most `limit`)."""
    return list(session.scalars(_statement(query).limit(limit)))


def as_record(entry: AuditEntry) -> dict[str, object]:
    """One row for an export: COLUMNS, the time in ISO 8601 UTC."""
    values: dict[str, object] = {column: getattr(entry, column) for column in COLUMNS}
    values["at"] = entry.at.isoformat()
    return values


def describe(query: AuditQuery) -> str:
    """The query in words for the audit row of an export (ids and names only, never a number)."""
    parts: Sequence[tuple[str, object]] = (
        ("since", query.since.isoformat() if query.since else None),
        ("until", query.until.isoformat() if query.until else None),
        ("actor", query.actor),
        ("action", query.action),
        ("relative", ",".join(map(str, query.relative_ids)) or None),
        ("subject", query.subject),
    )
    return "; ".join(f"{name}={value}" for name, value in parts if value) or "all"

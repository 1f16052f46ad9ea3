"""Roster changes made in the console: saved as a new roster version through `rosters.import_roster` (the same
all-or-nothing import as `hotline roster import`), audited, and listed as the history of versions.

A change is made against the version it was previewed on (`base_version`): if someone else saved in between,
it is refused (`StaleDraft`) rather than silently undoing their change.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.db.models import RosterVersion
from hotline.services import audit, rosters
from routing.roster import Roster
from routing.roster_diff import summary


class StaleDraft(Exception):
    """The roster was changed by someone else after this change was previewed."""


def save(
    session: Session,
    text: str,
    *,
    base_version: int | None,
    actor: str,
    account_id: int | None,
    source_name: str = "console",
    note: str = "",
    remote_addr: str | None = None,
) -> tuple[RosterVersion, Roster]:
    """Make `text` the roster in force as a new version (RosterFileError: nothing changed), with a
    `roster_changed` row in the audit log; the new version and roster."""
    current = rosters.current_version(session)
    if (current.id if current else None) != base_version:
        raise StaleDraft
    before = rosters.current_roster(session)  # read before the import: the cache takes committed rows only
    roster = rosters.import_roster(session, text, source_name=source_name, actor=actor)
    version = rosters.current_version(session)
    assert version is not None
    detail = summary(before, roster)
    audit.record(
        session,
        actor=actor,
        action=audit.Action.ROSTER_CHANGED,
        account_id=account_id,
        subject=str(version.id),
        detail=f"{note}: {detail}" if note else detail,
        remote_addr=remote_addr,
    )
    return version, roster


def versions(session: Session, limit: int = 50) -> list[RosterVersion]:
    """The newest versions first."""
    return list(session.scalars(select(RosterVersion).order_by(RosterVersion.id.desc()).limit(limit)))


def version(session: Session, version_id: int) -> RosterVersion | None:
    return session.get(RosterVersion, version_id)

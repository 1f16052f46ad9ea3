"""Rosters in the database: the newest imported roster file is the one in force.

The whole file is kept (so export and audit give back exactly what a manager imported) and advisors are mirrored
into `advisors` so calls and callbacks can refer to them. Parsing is `routing.roster_file`'s job.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime
from importlib.resources import files
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from hotline.db.models import AdvisorRecord, RosterVersion, utcnow
from hotline.services import links
from routing.roster import Roster
from routing.roster_file import load_roster

DEMO_ROSTER = files("routing") / "demo_roster.yaml"

_cache_lock = threading.Lock()
# Parsed rosters by (version id, checksum): a rolled-back import can free an id for another file, so the id
# alone does not name a roster; the cache is filled only from committed rows read back.
_cache: dict[tuple[int, str], Roster] = {}
# A few, not one: processes (and tests) may hold apps on different databases.
_KEPT_VERSIONS = 8


def import_roster(session: Session, text: str, *, source_name: str, actor: str) -> Roster:
    """Validate `text` (raises RosterFileError listing every problem, changing nothing) and make it current."""
    roster = load_roster(text, source_name)
    version = RosterVersion(
        content=text,
        checksum=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        source_name=source_name[:200],
        imported_by=actor[:100],
        imported_at=utcnow(),
    )
    session.add(version)
    _sync_advisors(session, roster, version.imported_at)
    session.flush()
    return roster


def _sync_advisors(session: Session, roster: Roster, now: datetime) -> None:
    """Mirror the roster's advisors. An advisor who stops being active (`active: false`, or gone from the file)
    has their links' version raised: their feed and page links stop for good, and do not come back to life if
    they are made active again later (they get new ones)."""
    known = {a.id: a for a in session.scalars(select(AdvisorRecord))}
    in_roster = set()
    leaving: list[str] = []
    for advisor in roster.advisors:
        in_roster.add(advisor.id)
        row = known.get(advisor.id)
        if row is None:
            row = AdvisorRecord(id=advisor.id)
            session.add(row)
        elif row.active and not advisor.active:
            leaving.append(advisor.id)
        row.name = advisor.name
        row.phone_number = advisor.phone
        row.languages = ",".join(advisor.languages)
        row.team = advisor.team or None
        row.active = advisor.active
    for advisor_id, row in known.items():
        if advisor_id not in in_roster:
            if row.active:
                leaving.append(advisor_id)
            row.active = False  # kept for history: old callbacks still point at them
    for advisor_id in leaving:
        links.revoke(session, "advisor", advisor_id, now)


def current_version(session: Session) -> RosterVersion | None:
    return session.scalars(select(RosterVersion).order_by(RosterVersion.id.desc()).limit(1)).first()


# The version check every request that needs the roster makes: one row of the primary key index, built once.
_VERSIONS = cast(Table, RosterVersion.__table__).c
_NEWEST = select(_VERSIONS.id, _VERSIONS.checksum).order_by(_VERSIONS.id.desc()).limit(1)


def current_roster(session: Session) -> Roster | None:
    """The roster in force, parsed once per process per version: each call costs one small statement (the
    newest version's id and checksum), so an import by any process is seen by every process on its next call."""
    newest = session.execute(_NEWEST).first()
    if newest is None:
        return None
    key = (newest.id, newest.checksum)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    version = session.get(RosterVersion, newest.id)
    assert version is not None
    roster = load_roster(version.content, version.source_name)
    with _cache_lock:
        _cache[key] = roster
        # The least recently parsed go first (a dict keeps insertion order), not the lowest ids: in a process with
        # apps on several databases (tests) the newest roster of one may have a lower id than another's, and
        # evicting by id would drop it as soon as it was parsed, so every request would parse it again.
        while len(_cache) > _KEPT_VERSIONS:
            del _cache[next(iter(_cache))]
    return roster


def ensure_demo_roster(session: Session) -> bool:
    """In the offline demo, start with the fictional demo roster if none was imported; True if it was."""
    if current_version(session) is not None:
        return False
    import_roster(
        session, DEMO_ROSTER.read_text(encoding="utf-8"), source_name="demo_roster.yaml", actor="demo"
    )
    return True

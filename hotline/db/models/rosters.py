"""Rosters: the imported roster versions, the advisors in force, the versions of signed links, and advisors' swap
and take requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.models.base import Base, utcnow


class RosterVersion(Base):
    """An imported roster file, kept whole; the newest is the one in force (export gives it back)."""

    __tablename__ = "roster_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str] = mapped_column(String(64))
    source_name: Mapped[str] = mapped_column(String(200))
    imported_by: Mapped[str] = mapped_column(String(100))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class AdvisorRecord(Base):
    """An advisor as of the newest roster, so callbacks and calls can point at them."""

    __tablename__ = "advisors"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone_number: Mapped[str] = mapped_column(String(32))
    languages: Mapped[str] = mapped_column(String(200), default="")
    team: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set while the advisor is on a hotline call (from call status callbacks); expires after a while.
    busy_call_sid: Mapped[str | None] = mapped_column(String(64))
    busy_since: Mapped[datetime | None]


class FeedVersion(Base):
    """The version of a signed link holder's links: a calendar feed (advisor, team, whole hotline), and an
    advisor's staff page links. Version 1 has no row; `hotline roster revoke-feed` raises it, which retires every
    URL signed with an older one (see hotline.services.links)."""

    __tablename__ = "feed_versions"
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    ident: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class RosterRequest(Base):
    """An advisor asks to swap a shift ("swap my shift with ...": `cover_advisor_id` works the requester's shift)
    or to take one ("I'll take ...'s shift": the requester covers `shift_advisor_id`). A manager approves it (it
    becomes a `replace` override in a new roster version, `roster_version_id`) or rejects it with a reason; the
    advisor may withdraw it while it waits. States: requested, approved, rejected, withdrawn."""

    __tablename__ = "roster_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # swap, take
    requested_by: Mapped[int | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL"), index=True
    )
    shift_advisor_id: Mapped[str] = mapped_column(String(64))  # whose shift it is
    cover_advisor_id: Mapped[str] = mapped_column(String(64))  # who works it instead
    layer: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(300), default="")
    state: Mapped[str] = mapped_column(String(16), default="requested", index=True)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    roster_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("roster_versions.id", ondelete="SET NULL")
    )

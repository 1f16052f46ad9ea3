"""The staff console: accounts, the audit log, handovers read, and data subjects' requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.models.base import Base, utcnow


class StaffAccount(Base):
    """Someone who signs in to the staff console: an advisor (tied to a roster advisor), a manager or an admin.

    `password_hash` is argon2id (None: signs in through OpenID Connect only). `failed_logins` and `locked_until`
    count wrong passwords in the database, so every gunicorn worker sees the same lock-out. `session_epoch` is
    part of every session's id: raising it (new password, disabled) ends the sessions already handed out.
    """

    __tablename__ = "staff_accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    advisor_id: Mapped[str | None] = mapped_column(ForeignKey("advisors.id", ondelete="SET NULL"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AuditEntry(Base):
    """Who did what in the staff console, and when: sign-ins (and failed ones), sign-outs, and every view or
    change of a relative's data (`relative_id`). Kept apart from the data it describes, so it outlives it:
    no foreign keys, the actor's username copied in."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    account_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(32))
    relative_id: Mapped[int | None] = mapped_column(Integer, index=True)
    subject: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[str | None] = mapped_column(String(300))
    remote_addr: Mapped[str | None] = mapped_column(String(64))


class HandoverRead(Base):
    """An advisor marked the handover of one of their shifts (by its start) read in the console. No foreign keys,
    like the audit log: it says what was read, and outlives the account."""

    __tablename__ = "handover_reads"
    __table_args__ = (UniqueConstraint("advisor_id", "shift_start"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    advisor_id: Mapped[str] = mapped_column(String(64))
    shift_start: Mapped[datetime]
    read_at: Mapped[datetime]
    account_id: Mapped[int | None] = mapped_column(Integer)


class DataRequest(Base):
    """A data subject's request carried out in the console (`hotline.services.subject_access`): an export of
    everything held about a relative, or its erasure. Like the audit log, no foreign keys and the requester's
    username copied in, so it outlives both; the relative is named by the pseudonym of their number, never the
    number itself."""

    __tablename__ = "data_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # export | erasure
    relative_id: Mapped[int | None] = mapped_column(Integer, index=True)
    number_pseudonym: Mapped[str] = mapped_column(String(32), index=True)
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    completed_at: Mapped[datetime | None]
    detail: Mapped[str | None] = mapped_column(String(300))

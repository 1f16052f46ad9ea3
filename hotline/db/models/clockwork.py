"""The clockwork: scheduler heartbeats, scheduled work done once, and erasures of what Twilio holds for us."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.models.base import Base, utcnow


class SchedulerHeartbeat(Base):
    """One row per scheduler process; the leader's `beat_at` proves the clockwork runs (see /readyz)."""

    __tablename__ = "scheduler_heartbeats"
    instance_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int]
    is_leader: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClockworkRun(Base):
    """One piece of scheduled work done (a window opened, a handover sent, a night's purge): done once."""

    __tablename__ = "clockwork_runs"
    __table_args__ = (UniqueConstraint("job", "run_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    run_key: Mapped[str] = mapped_column(String(160))
    summary: Mapped[str | None] = mapped_column(String(300))
    ran_at: Mapped[datetime] = mapped_column(default=utcnow)


class RemoteErasure(Base):
    """Personal data Twilio holds for us, to be erased there once our own copy is purged (see hotline.services.erasure).

    `kind`: recording (deleted), message (its body redacted) or call (the call log deleted). `outcome`: erased,
    gone (Twilio no longer had it), demo (nothing left the machine), or failed (`last_error` says why).
    """

    __tablename__ = "remote_erasures"
    __table_args__ = (
        UniqueConstraint("kind", "sid"),
        Index("ix_remote_erasures_due", "done_at", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    sid: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

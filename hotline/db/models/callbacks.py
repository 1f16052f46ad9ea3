"""Callbacks: the promise to call a relative back, the calls linked to it, its state changes and attempts, and the
callbacks the caps refused."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.models.base import Base, utcnow


class CallbackRequest(Base):
    """A promise to call a relative back, with its window, due time, assignee and state."""

    __tablename__ = "callback_requests"
    # The nightly purge looks for voicemails past retention among callbacks that still hold one: only those rows
    # are in this index, so a purge with nothing to do stays as cheap at 100x data as at 1x (benchmarks/scale.py).
    __table_args__ = (
        Index(
            "ix_callback_requests_recording_age",
            "created_at",
            postgresql_where=text("recording_sid IS NOT NULL"),
            sqlite_where=text("recording_sid IS NOT NULL"),
        ),
        # The reports' headline counts the callbacks whose window ended in a period from this index alone.
        Index("ix_callback_requests_reports", "window_end", "state", "window_start", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # NULL with phone_number for a voicemail from a withheld number: a task for staff that cannot be dialled.
    relative_id: Mapped[int | None] = mapped_column(
        ForeignKey("relatives.id", ondelete="CASCADE"), index=True
    )
    # Equals relative_id while the request is open, NULL after: the unique constraint allows one open request
    # per relative, so a second call links to it instead of creating another.
    open_for_relative: Mapped[int | None] = mapped_column(Integer, unique=True)
    phone_number: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    window_key: Mapped[str] = mapped_column(String(32))
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    due_at: Mapped[datetime] = mapped_column(index=True)
    # Indexed: the queue lists the open states out of every callback ever made (benchmarks/scale.py).
    state: Mapped[str] = mapped_column(String(16), index=True)
    assigned_advisor_id: Mapped[str | None] = mapped_column(ForeignKey("advisors.id", ondelete="SET NULL"))
    # When a person took it (the console's "tag", an assignment, "ring mig op"); NULL while the assignee is only
    # the hotline's suggestion (the relative's contact person), which any advisor may still take.
    taken_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    recording_sid: Mapped[str | None] = mapped_column(String(64))
    # The number was keyed in on the phone menu (withheld caller ID), not seen as the caller's own: such
    # callbacks, and their status texts, count in the keyed-in number's daily caps (sms.ratelimit).
    keyed_in: Mapped[bool] = mapped_column(Boolean, default=False)
    # True when the relative picked the window themselves: then the quiet hours do not apply to it.
    window_picked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)


class CallbackRefusal(Base):
    """A callback the caps refused (a number keyed in on the phone that had its callbacks for the day): kept
    so staff can see it, with the call and any voicemail left instead; nobody was promised a call."""

    __tablename__ = "callback_refusals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # NULL once purged (`retention.call_records_days`): the count stays for statistics.
    phone_number: Mapped[str | None] = mapped_column(String(32), index=True)
    call_sid: Mapped[str | None] = mapped_column(String(64))
    recording_sid: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class CallbackCall(Base):
    """Each call that asked for (or was linked to) a callback request; one row per CallSid."""

    __tablename__ = "callback_calls"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    callback_id: Mapped[int] = mapped_column(
        ForeignKey("callback_requests.id", ondelete="CASCADE"), index=True
    )
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class CallbackTransition(Base):
    """Every state change of a callback request: from, to, why, who and when."""

    __tablename__ = "callback_transitions"
    # When a callback was reached (the reports' "kept in window"): one probe of this small index per callback.
    __table_args__ = (
        Index(
            "ix_callback_transitions_reached",
            "callback_id",
            "at",
            postgresql_where=text("to_state = 'reached'"),
            sqlite_where=text("to_state = 'reached'"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    callback_id: Mapped[int] = mapped_column(
        ForeignKey("callback_requests.id", ondelete="CASCADE"), index=True
    )
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    event: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class CallbackAttempt(Base):
    """One try at calling back: advisor leg first, then the relative; outcome and notes."""

    __tablename__ = "callback_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    callback_id: Mapped[int] = mapped_column(
        ForeignKey("callback_requests.id", ondelete="CASCADE"), index=True
    )
    advisor_id: Mapped[str | None] = mapped_column(ForeignKey("advisors.id", ondelete="SET NULL"))
    advisor_call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    relative_call_sid: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ended_at: Mapped[datetime | None]

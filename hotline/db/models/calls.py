"""Calls: each call and what happened to it, where it is in the on-call chain, voicemails, and what the offline demo
transport would have sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.db.models.base import Base, utcnow


class Call(Base):
    """One phone call, inbound or outbound, keyed by Twilio's CallSid."""

    __tablename__ = "calls"
    # The reports read a period's calls from this index alone (its direction and sid to join the routing).
    __table_args__ = (Index("ix_calls_reports", "created_at", "direction", "call_sid"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[str] = mapped_column(String(24))
    # E.164 when it parsed; None when withheld. Full numbers live only in the database, never in logs.
    from_number: Mapped[str | None] = mapped_column(String(32))
    caller_withheld: Mapped[bool] = mapped_column(Boolean, default=False)
    to_number: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(24))
    relative_id: Mapped[int | None] = mapped_column(
        ForeignKey("relatives.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)  # indexed by ix_calls_reports, first
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    ended_at: Mapped[datetime | None]
    duration_seconds: Mapped[int | None]
    events: Mapped[list[CallEvent]] = relationship(back_populates="call", order_by="CallEvent.id")


class CallEvent(Base):
    """Something that happened to a call (a status callback, a fallback answer); a retry adds nothing new."""

    __tablename__ = "call_events"
    __table_args__ = (UniqueConstraint("call_id", "kind", "detail"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    call: Mapped[Call] = relationship(back_populates="events")


class CallRouting(Base):
    """Where one caller is in the on-call chain; computed once, so a retried webhook walks the same chain."""

    __tablename__ = "call_routing"
    # The reports find a period's routed calls by `started_at` and count them from this index alone
    # (benchmarks/reports.py prints the plans), not by reading every routing row.
    __table_args__ = (
        Index(
            "ix_call_routing_reports",
            "started_at",
            "call_sid",
            "language",
            "connected_advisor_id",
            "connected_at",
        ),
    )
    call_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    relative_id: Mapped[int | None] = mapped_column(ForeignKey("relatives.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    chain: Mapped[str] = mapped_column(Text)  # advisor ids, comma-separated, in the order to ring
    step: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    connected_advisor_id: Mapped[str | None] = mapped_column(String(64))
    # When that advisor pressed 1 (the caller reached a human): the reports' time to a human starts at the call.
    connected_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(24))


class Recording(Base):
    """A voicemail: Twilio keeps the audio; we keep the reference, until the retention period ends."""

    __tablename__ = "recordings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_sid: Mapped[str] = mapped_column(String(64), unique=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    recording_url: Mapped[str | None] = mapped_column(String(500))
    duration_seconds: Mapped[int | None]
    from_number: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(24))
    received_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DemoOutbound(Base):
    """What the offline demo transport would have sent: texts and calls kept here instead of leaving the machine."""

    __tablename__ = "demo_outbound"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    to_number: Mapped[str] = mapped_column(String(32))
    from_number: Mapped[str | None] = mapped_column(String(32))
    body: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

"""Texts: the relative's thread, the outbox of texts to send, opt-outs and Twilio's delivery statuses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.models.base import Base, utcnow


class Message(Base):
    """One text, inbound or outbound, keyed by Twilio's MessageSid once it has one."""

    __tablename__ = "messages"
    # The reports count texts by the answer their receipt promised, reading this index alone.
    __table_args__ = (
        Index(
            "ix_messages_reports", "answer_due_at", "direction", "relative_id", "created_at", "callback_id"
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    direction: Mapped[str] = mapped_column(String(16))
    from_number: Mapped[str | None] = mapped_column(String(32))
    to_number: Mapped[str | None] = mapped_column(String(32))
    # Personal data: purged after the retention period, when body_purged_at is set.
    body: Mapped[str | None] = mapped_column(Text)
    body_purged_at: Mapped[datetime | None]
    num_media: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(24))
    error_code: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The relative's conversation thread: every text to or from them points at them.
    relative_id: Mapped[int | None] = mapped_column(
        ForeignKey("relatives.id", ondelete="SET NULL"), index=True
    )
    # Inbound: when keywords and the automatic reply were dealt with (NULL: not yet, e.g. imported from the spool).
    handled_at: Mapped[datetime | None]
    # Inbound question: the answer its receipt promised ("En rådgiver svarer dig i aften" is before this instant).
    answer_due_at: Mapped[datetime | None]
    # Inbound: the callback it was handed to (RING, or an advisor turned the thread into one); the queue answers it.
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callback_requests.id", ondelete="SET NULL"))


class OutboxText(Base):
    """A text waiting to be sent, being sent, or finished; written in the transaction of the event causing it.

    `state`: pending → sending → sent | failed | cancelled. A text is claimed (sending) before it is handed to
    Twilio and is never handed over again, so a crash mid-send loses at most that text rather than doubling it.
    A text the caps refused is written as `refused` (never sent; `failure_code` says which cap) for staff to see.
    Once sent, the text is a `Message` (`message_id`) in the relative's thread and its body lives there.
    """

    __tablename__ = "sms_outbox"
    __table_args__ = (
        Index("ix_sms_outbox_due", "state", "next_attempt_at"),
        Index("ix_sms_outbox_to_recent", "to_number", "created_at"),
        # The reports' "first advisor's reply to this relative after the text": one probe per text.
        Index(
            "ix_sms_outbox_replies",
            "relative_id",
            "created_at",
            "state",
            postgresql_where=text("purpose = 'advisor_reply'"),
            sqlite_where=text("purpose = 'advisor_reply'"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # What made this text, so a job run twice or a retried webhook writes it once.
    dedup_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    purpose: Mapped[str] = mapped_column(String(32))  # the template key
    to_number: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    # NULL while a status text waits to be worded at sending time, and once it is sent (see message_id).
    body: Mapped[str | None] = mapped_column(Text)
    body_purged_at: Mapped[datetime | None]
    relative_id: Mapped[int | None] = mapped_column(
        ForeignKey("relatives.id", ondelete="SET NULL"), index=True
    )
    callback_id: Mapped[int | None] = mapped_column(
        ForeignKey("callback_requests.id", ondelete="SET NULL"), index=True
    )
    in_reply_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    auto_reply: Mapped[bool] = mapped_column(Boolean, default=False)
    # An automatic text to a relative (not a staff text, not an advisor's own words): counts in the caps.
    capped: Mapped[bool] = mapped_column(Boolean, default=False)
    # To a number keyed in on the phone menu (or about a callback to one): counts in its daily cap.
    keyed_in: Mapped[bool] = mapped_column(Boolean, default=False)
    # Only the opt-out confirmation and the HELP answer reach a number that has opted out.
    ignores_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    # Set when an attempt ended without knowing whether Twilio took the text (a timeout, a worker that died
    # mid-send): every later attempt first asks Twilio for a text sent since then, and sends only if none.
    uncertain_since: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    failure_code: Mapped[str | None] = mapped_column(String(64))
    failure_detail: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SmsOptOut(Base):
    """A number that texted STOP (or that Twilio reports unsubscribed): no text goes to it until START."""

    __tablename__ = "sms_opt_outs"
    phone_number: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    message_sid: Mapped[str | None] = mapped_column(String(64))
    opted_out_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SmsStatusEvent(Base):
    """Every delivery status Twilio reported, kept so one that arrives before the send is recorded is applied."""

    __tablename__ = "sms_status_events"
    __table_args__ = (UniqueConstraint("message_sid", "status"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(24))
    error_code: Mapped[str | None] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

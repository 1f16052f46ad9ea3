"""Database models: SQLAlchemy 2 typed mappings on one DeclarativeBase with a constraint naming convention."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every database (SQLite keeps no offset of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime()}


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


class SchedulerHeartbeat(Base):
    """One row per scheduler process; the leader's `beat_at` proves the clockwork runs (see /readyz)."""

    __tablename__ = "scheduler_heartbeats"
    instance_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int]
    is_leader: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(default=utcnow)


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


class Relative(Base):
    """A relative known by phone number: their language and their own contact person."""

    __tablename__ = "relatives"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # E.164; its pseudonym ("ps:...", hotline.services.pseudonyms) once the relative has been quiet for
    # retention.relatives_days. Numbers on other records become the same pseudonym past their own retention.
    phone_number: Mapped[str] = mapped_column(String(32), unique=True)
    language: Mapped[str | None] = mapped_column(String(8))
    contact_person_id: Mapped[str | None] = mapped_column(ForeignKey("advisors.id", ondelete="SET NULL"))
    last_advisor_id: Mapped[str | None] = mapped_column(ForeignKey("advisors.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_contact_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


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

"""The outbox: every text the hotline sends is written here in the transaction of the event that causes it, and
sent by a scheduler job (hotline.jobs.outbox) through the transport (toll-fraud guard included) exactly once.

A text is claimed (`sending`) and committed before it is handed to Twilio: with several workers on PostgreSQL the
claim takes rows with `FOR UPDATE SKIP LOCKED`, so no two workers take the same text. Transient failures go back
to `pending` with a backoff; permanent ones, and the last allowed attempt, end as `failed` with the reason. When
an attempt may have reached Twilio without our knowing (a timeout, a dropped connection, a worker that died
mid-send), the text is marked uncertain and every later attempt first asks Twilio for it (`find_sent`): found,
it is recorded as sent with Twilio's SID; not found, it is sent. So a timeout neither doubles a text nor loses it.
The opt-out registry is checked when a text is sent, so it is honoured by every kind of text, including those
written before the relative texted STOP.

Status texts about a callback are written without a body and worded when they are sent, from the callback as it
stands then: a text that would be stale (the window is over, the relative was already reached) is cancelled.

Every automatic text to a relative (`capped=True`: receipts, keyword replies, information asked for on the phone,
callback status texts) is held against the caps here, when it is written, whatever caused it (`sms.ratelimit`):
per number and in total per hour, and per day for a number keyed in on the phone menu. A text a cap refuses is
written as `refused` with the cap's code and a sentence, logged with the number masked, and never sent. Staff
texts and an advisor's own words are not capped. The caps come with the session (`Session.info[SEND_CAPS]`, put
there by the running hotline's sessionmaker), so no caller can forget them.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from hotline.config.settings import Settings
from hotline.db.models import CallbackRequest, Message, OutboxText, SmsStatusEvent
from hotline.db.session import SEND_CAPS, insert_ignore
from hotline.services.opt_outs import is_opted_out, opt_out
from hotline.services.texts import MESSAGE_STATUS_RANK, apply_message_status
from hotline.transport.base import SentMessage, TransportError
from routing.callbacks import Event, State
from routing.numbers import display_number, mask_number
from sms.ratelimit import Decision, DecisionReason, SendCaps, auto_reply_allowed, keyed_in_allowed
from sms.templates import render
from sms.timephrase import window_phrase

log = logging.getLogger(__name__)

PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"
REFUSED = "refused"  # a cap refused it when it was written; never sent
# Texts that went out or will: what the caps count.
_NOT_SENT = (CANCELLED, REFUSED)

# Twilio's code for "the recipient has unsubscribed": the number goes into our own registry too.
TWILIO_UNSUBSCRIBED = "21610"
# Clocks differ: a text Twilio dates a little before our attempt began is still ours.
LOOKUP_SLACK = timedelta(minutes=2)

# The relative's status text for each step of a callback's life (docs/sms.md), and what makes it unique.
CALLBACK_TEXTS = {
    Event.SCHEDULE: "callback_registered",
    Event.RESCHEDULE: "callback_registered",
    Event.RETRY: "callback_missed",
    Event.ANSWERED: "callback_done",
}
_WAITING = (State.REQUESTED.value, State.SCHEDULED.value)


def common_values(settings: Settings) -> dict[str, object]:
    """Placeholders every text may use: the service's name and the number we call from."""
    service = settings.file.service
    return {"service_name": service.name, "hotline_phone": display_number(service.hotline_number)}


def send_caps(session: Session) -> SendCaps:
    """The caps the session carries (`Session.info[SEND_CAPS]`); an error when it carries none."""
    caps = session.info.get(SEND_CAPS)
    if not isinstance(caps, SendCaps):
        raise RuntimeError(
            "this session carries no send caps, so no text to a relative may be written with it: take sessions "
            "from the running hotline (Runtime.sessions), or build the sessionmaker with "
            "make_session_factory(engine, info={SEND_CAPS: settings.file.send_caps()})"
        )
    return caps


def recent_texts(session: Session, number: str, now: datetime) -> tuple[int, int]:
    """Automatic texts to relatives written in the last hour and not refused or cancelled: (to `number`, to
    everyone)."""
    recent = (
        select(func.count())
        .select_from(OutboxText)
        .where(OutboxText.capped.is_(True), OutboxText.created_at > now - timedelta(hours=1))
        .where(OutboxText.state.not_in(_NOT_SENT))
    )
    to_number = session.scalar(recent.where(OutboxText.to_number == number)) or 0
    return to_number, session.scalar(recent) or 0


def recent_keyed_in_texts(session: Session, number: str, now: datetime) -> int:
    """Texts written in the last 24 hours to `number` because it was keyed in on the phone menu."""
    statement = (
        select(func.count())
        .select_from(OutboxText)
        .where(OutboxText.keyed_in.is_(True), OutboxText.to_number == number)
        .where(OutboxText.created_at > now - timedelta(days=1), OutboxText.state.not_in(_NOT_SENT))
    )
    return session.scalar(statement) or 0


def refused_since(session: Session, since: datetime) -> int:
    """How many texts the caps refused since `since` (for the handover page)."""
    statement = select(func.count()).select_from(OutboxText)
    return session.scalar(statement.where(OutboxText.state == REFUSED, OutboxText.created_at >= since)) or 0


def cap_decision(session: Session, to: str, now: datetime, *, keyed_in: bool) -> Decision:
    """May one more automatic text go to `to` now? The hourly caps first, then a keyed-in number's daily one."""
    caps = send_caps(session)
    decision = auto_reply_allowed(*recent_texts(session, to, now), caps.hourly)
    if decision.allowed and keyed_in:
        count = recent_keyed_in_texts(session, to, now)
        decision = keyed_in_allowed(count, caps.keyed_in_texts_per_day, "texts")
    return decision


def enqueue(
    session: Session,
    *,
    to: str,
    purpose: str,
    language: str,
    now: datetime,
    capped: bool,
    keyed_in: bool = False,
    body: str | None = None,
    relative_id: int | None = None,
    callback_id: int | None = None,
    in_reply_to_id: int | None = None,
    auto_reply: bool = False,
    ignores_opt_out: bool = False,
    dedup_key: str | None = None,
    expires_at: datetime | None = None,
) -> OutboxText | None:
    """Write one text to the outbox in the caller's transaction; None when `dedup_key` was written before.

    `capped`: an automatic text to a relative, held against the caps (False only for staff texts and an
    advisor's own words); refused, it is written with state `refused` and never sent. `keyed_in`: to a number
    keyed in on the phone menu (a status text of a callback to a keyed-in number is counted so too).
    `body` None means a callback status text, worded when it is sent (`callback_id` is required then).
    """
    if body is None and callback_id is None:
        raise ValueError(f"outbox text {purpose!r}: give a body, or a callback_id to word it from")
    if callback_id is not None and not keyed_in:
        callback = session.get(CallbackRequest, callback_id)
        keyed_in = bool(callback is not None and callback.keyed_in)
    decision = cap_decision(session, to, now, keyed_in=keyed_in) if capped else None
    refused = decision is not None and not decision.allowed
    values: dict[str, Any] = {
        "dedup_key": dedup_key,
        "purpose": purpose[:32],
        "to_number": to,
        "language": language[:8],
        "body": body,
        "relative_id": relative_id,
        "callback_id": callback_id,
        "in_reply_to_id": in_reply_to_id,
        "auto_reply": auto_reply,
        "ignores_opt_out": ignores_opt_out,
        "capped": capped,
        "keyed_in": keyed_in,
        "state": REFUSED if refused else PENDING,
        "failure_code": decision.reason.value if refused and decision else None,
        "failure_detail": decision.detail[:300] if refused and decision else None,
        "attempts": 0,
        "expires_at": expires_at,
        "created_at": now,
        "updated_at": now,
    }
    if dedup_key is None:
        row = OutboxText(**values)
        session.add(row)
        session.flush()
    elif insert_ignore(session, OutboxText, values, ["dedup_key"]):
        row = session.scalars(select(OutboxText).where(OutboxText.dedup_key == dedup_key)).one()
    else:
        return None
    if refused and decision is not None:
        _log_refusal(row, decision)
    return row


def _log_refusal(row: OutboxText, decision: Decision) -> None:
    # A global refusal may be an attack spread over many numbers: operations should be alerted.
    level = logging.ERROR if decision.reason is DecisionReason.GLOBAL_LIMIT else logging.WARNING
    log.log(
        level,
        "sms refused by a cap: %s",
        decision.detail,
        extra={
            "outbox": row.id,
            "to": mask_number(row.to_number),
            "purpose": row.purpose,
            "reason": decision.reason.value,
        },
    )


def callback_moved(
    session: Session, callback: CallbackRequest, event: Event, now: datetime
) -> OutboxText | None:
    """A callback took a step: queue the relative's status text for it, if that step has one; the text queued,
    or None (no text for this step, or it was queued before)."""
    purpose = CALLBACK_TEXTS.get(event)
    if purpose is None or callback.phone_number is None:  # a task without a number has nobody to text
        return None
    step = {
        Event.SCHEDULE: "registered",
        Event.RESCHEDULE: f"rescheduled:{callback.window_start.isoformat()}",
        Event.RETRY: f"missed:{callback.attempts}",
        Event.ANSWERED: "done",
    }[event]
    key = callback_text_key(callback.id, step)
    return enqueue(
        session,
        to=callback.phone_number,
        purpose=purpose,
        language=callback.language,
        now=now,
        capped=True,
        relative_id=callback.relative_id,
        callback_id=callback.id,
        dedup_key=key,
    )


def callback_text_key(callback_id: int, step: str) -> str:
    """The dedup key `callback_moved` gives a callback's status text (`registered`, `done`, ...)."""
    return f"callback:{callback_id}:{step}"


# --- delivery status ------------------------------------------------------------------------------------------


def record_status(
    session: Session, message_sid: str, status: str, error_code: str | None, now: datetime
) -> bool:
    """Keep a delivery status and apply it; one for a text whose send is not recorded yet is applied then."""
    if status not in MESSAGE_STATUS_RANK:
        return False
    code = (error_code or "")[:16] or None
    insert_ignore(
        session,
        SmsStatusEvent,
        {"message_sid": message_sid, "status": status, "error_code": code, "received_at": now},
        ["message_sid", "status"],
    )
    return apply_message_status(session, message_sid, status, code)


def _apply_early_statuses(session: Session, message_sid: str) -> None:
    events = session.scalars(select(SmsStatusEvent).where(SmsStatusEvent.message_sid == message_sid)).all()
    for event in sorted(events, key=lambda e: MESSAGE_STATUS_RANK.get(e.status, 0)):
        apply_message_status(session, message_sid, event.status, event.error_code)


# --- sending ----------------------------------------------------------------------------------------------------


@dataclass
class SendReport:
    """What one run of the send job did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0
    interrupted: int = 0
    codes: dict[str, int] = field(default_factory=dict)

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed + self.cancelled

    def count(self, outcome: str, code: str | None = None) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        if code:
            self.codes[code] = self.codes.get(code, 0) + 1


@dataclass(frozen=True)
class Claimed:
    """A text this worker holds (`sending`), checked and worded, ready to hand to Twilio."""

    id: int
    to: str
    body: str
    purpose: str
    # When an earlier attempt may have reached Twilio (see OutboxText.uncertain_since): look it up first.
    uncertain_since: datetime | None = None
    # Why it must not go out now (expired, opted out); claimed only to look up whether it already went out.
    cancel_unless_found: str | None = None


def claim_in(
    session: Session, settings: Settings, now: datetime, limit: int, report: SendReport
) -> list[Claimed]:
    """`claim` inside the caller's transaction. Rows another worker is claiming are skipped, not waited for; a
    text that must not go out (opted out, expired, no longer true) is cancelled here with the reason."""
    due = (
        select(OutboxText)
        .where(OutboxText.state == PENDING)
        .where(or_(OutboxText.next_attempt_at.is_(None), OutboxText.next_attempt_at <= now))
        .order_by(OutboxText.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer at a time anyway
    )
    claimed = []
    for row in session.scalars(due):
        reason = _reason_not_to_send(session, settings, row, now)
        if reason is not None and (row.uncertain_since is None or not row.body):
            cancel(row, reason, now, report)
            continue
        row.state, row.claimed_at, row.updated_at = SENDING, now, now
        claimed.append(
            Claimed(row.id, row.to_number, row.body or "", row.purpose, row.uncertain_since, reason)
        )
    return claimed


def cancel(row: OutboxText, reason: str, now: datetime, report: SendReport) -> None:
    """The text will not go out: recorded with the reason."""
    _finish(row, CANCELLED, reason, _CANCEL_DETAIL[reason], now)
    report.count("cancelled", reason)
    log.info("sms cancelled", extra={"outbox": row.id, "purpose": row.purpose, "reason": reason})


def mark_interrupted(session: Session, settings: Settings, now: datetime) -> int:
    """Texts left `sending` by a worker that stopped mid-send: unknown whether Twilio got them, so they go back
    to the queue as uncertain, and the next attempt asks Twilio before sending (never blindly twice)."""
    cutoff = now - timedelta(minutes=settings.file.sms.sending_timeout_minutes)
    rows = session.scalars(
        select(OutboxText)
        .where(OutboxText.state == SENDING, OutboxText.claimed_at < cutoff)
        .with_for_update(skip_locked=True)
    ).all()
    for row in rows:
        row.uncertain_since = row.uncertain_since or row.claimed_at
        row.attempts += 1
        row.next_attempt_at, row.claimed_at = now, None
        _finish(row, PENDING, "interrupted", _INTERRUPTED, now)
    if rows:
        log.warning("texts interrupted mid-send: to be looked up at twilio", extra={"count": len(rows)})
    return len(rows)


_INTERRUPTED = (
    "the worker stopped while sending; Twilio is asked whether it took the text before it is resent"
)
# Failures after which Twilio may have taken the text anyway: the request went out, the answer never came.
AMBIGUOUS_CODES = frozenset({"timeout", "network"})


_CANCEL_DETAIL = {
    "opted_out": "the number has opted out (STOP); nothing is sent until it texts START",
    "expired": "not sent in time; the text would no longer be true",
    "stale": "the callback moved on before the text went out",
    "no_body": "nothing to send (the text was purged)",
}


def _reason_not_to_send(session: Session, settings: Settings, row: OutboxText, now: datetime) -> str | None:
    if not row.ignores_opt_out and is_opted_out(session, row.to_number):
        return "opted_out"
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    if row.body is None:
        if row.callback_id is None:
            return "no_body"
        row.body = word_callback_text(session, settings, row, now)
        if row.body is None:
            return "stale"
    return None


def word_callback_text(session: Session, settings: Settings, row: OutboxText, now: datetime) -> str | None:
    """The body of a callback status text as of `now`; None when it is no longer true."""
    callback = session.get(CallbackRequest, row.callback_id) if row.callback_id else None
    if callback is None:
        return None
    values = common_values(settings)
    if row.purpose in ("callback_registered", "callback_soon"):
        if callback.state not in _WAITING or callback.due_at <= now:
            return None
        # An open window (as soon as possible, or one already begun) reads "inden kl. 19.37", not "mellem".
        start = callback.window_start if callback.window_start > now else now - timedelta(seconds=1)
        values["window"] = window_phrase(start, callback.due_at, now, row.language)
        values["minutes"] = math.ceil((callback.due_at - now).total_seconds() / 60)
    elif row.purpose == "callback_missed":
        retry_at = callback.next_attempt_at
        if callback.state != State.SCHEDULED.value or retry_at is None or retry_at <= now:
            return None
        values["next"] = window_phrase(retry_at, retry_at, now, row.language)
    elif row.purpose == "callback_given_up" and callback.state != State.NOT_REACHED.value:
        return None  # the relative called or texted meanwhile and the callback moved on
    return render(row.purpose, row.language, **values)


def _finish(row: OutboxText, state: str, code: str | None, detail: str | None, now: datetime) -> None:
    row.state, row.failure_code, row.updated_at = state, code, now
    row.failure_detail = detail[:300] if detail else None


def record_sent(
    session: Session, settings: Settings, outbox_id: int, sent: SentMessage, now: datetime
) -> None:
    """Twilio took the text: it joins the relative's thread as a Message; its body lives on there only."""
    row = session.get(OutboxText, outbox_id)
    assert row is not None
    message = Message(
        message_sid=sent.sid[:64],
        direction="outbound",
        from_number=settings.file.service.hotline_number,
        to_number=row.to_number,
        body=row.body,
        status=sent.status if sent.status in MESSAGE_STATUS_RANK else "queued",
        relative_id=row.relative_id,
        created_at=now,
        updated_at=now,
    )
    session.add(message)
    session.flush()
    _apply_early_statuses(session, message.message_sid or "")
    row.message_id, row.body, row.sent_at = message.id, None, now
    _finish(row, SENT, None, None, now)


def record_failed_attempt(
    session: Session,
    settings: Settings,
    outbox_id: int,
    error: TransportError,
    now: datetime,
    report: SendReport,
) -> None:
    """An attempt failed: retried with backoff, or failed for good (a permanent refusal, or the last attempt)."""
    sms = settings.file.sms
    code = error.code or "error"
    row = session.get(OutboxText, outbox_id)
    assert row is not None
    row.attempts += 1
    if code in AMBIGUOUS_CODES and row.uncertain_since is None:
        row.uncertain_since = row.claimed_at or now
    if error.permanent or row.attempts >= sms.send_attempts:
        detail = (
            error.message if error.permanent else f"gave up after {row.attempts} attempts: {error.message}"
        )
        _finish(row, FAILED, code, detail, now)
        if code == TWILIO_UNSUBSCRIBED:
            opt_out(session, row.to_number, source=f"twilio:{code}", now=now)
        report.count("failed", code)
        log.warning("sms failed", extra={"outbox": outbox_id, "code": code, "attempts": row.attempts})
        return
    delay = min(sms.retry_seconds * 2 ** (row.attempts - 1), sms.retry_max_seconds)
    row.next_attempt_at = now + timedelta(seconds=delay)
    _finish(row, PENDING, code, error.message, now)
    row.claimed_at = None
    report.count("retrying", code)
    log.info("sms will be retried", extra={"outbox": outbox_id, "code": code, "in_seconds": delay})


def record_unexpected_failure(session: Session, outbox_id: int, error: Exception, now: datetime) -> None:
    """Not a known failure (a bug): whether Twilio took the text is unknown, so it is not tried again."""
    row = session.get(OutboxText, outbox_id)
    if row is not None and row.state == SENDING:
        _finish(row, FAILED, "unexpected", f"{type(error).__name__}; not retried", now)

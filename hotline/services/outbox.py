"""The outbox: every text the hotline sends is written here in the transaction of the event that causes it, and
sent by a scheduler job (hotline.jobs.outbox) through the transport (toll-fraud guard included) exactly once.

How the texts are claimed, sent a batch at a time and recorded is hotline.services.sending.

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
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.config.settings import Settings
from hotline.db.models import CallbackRequest, OutboxText, SmsStatusEvent
from hotline.db.session import SEND_CAPS, insert_ignore
from hotline.services.texts import MESSAGE_STATUS_RANK, apply_message_status
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

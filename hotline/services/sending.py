"""Sending the outbox, a batch at a time: claim (one statement), record the results (one statement per batch).

The send job (hotline.jobs.outbox) claims up to `sms.batch_size` due texts in one statement, committed as
`sending` before any is handed to Twilio; with several workers on PostgreSQL the claim takes rows with `FOR UPDATE
SKIP LOCKED`, so no two workers take the same text (SQLite has one writer). The job sends the batch concurrently
and records every result in one transaction here: one INSERT for the texts Twilio took, one UPDATE (executemany)
for every text. Transient failures go back to `pending` with a backoff; permanent ones, and the last allowed
attempt, end as `failed` with the reason. When an attempt may have reached Twilio without our knowing (a timeout, a
dropped connection, a worker that died mid-batch, or a batch whose results could not be recorded), the text is
uncertain and every later attempt first asks Twilio for it (`find_sent`): found, it is recorded as sent with
Twilio's SID; not found, it is sent. So a timeout neither doubles a text nor loses it. The opt-out registry is
checked when a text is claimed, so it is honoured by every kind of text, including those written before STOP.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from hotline.config.settings import Settings
from hotline.db.models import CallbackRequest, Message, OutboxText, SmsOptOut, SmsStatusEvent
from hotline.services.opt_outs import opt_out
from hotline.services.outbox import CANCELLED, FAILED, PENDING, SENDING, SENT, word_callback_text
from hotline.services.texts import MESSAGE_STATUS_RANK, apply_message_status
from hotline.transport.base import SentMessage, TransportError

log = logging.getLogger(__name__)

# Clocks differ: a text Twilio dates a little before our attempt began is still ours.
LOOKUP_SLACK = timedelta(minutes=2)

# Twilio's code for "the recipient has unsubscribed": the number goes into our own registry too.
TWILIO_UNSUBSCRIBED = "21610"


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

    def add(self, other: SendReport) -> None:
        """Count `other`'s run in this one."""
        for outcome in ("sent", "retrying", "failed", "cancelled", "interrupted"):
            setattr(self, outcome, getattr(self, outcome) + getattr(other, outcome))
        for code, count in other.codes.items():
            self.codes[code] = self.codes.get(code, 0) + count

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
    relative_id: int | None = None
    attempts: int = 0  # attempts before this one
    claimed_at: datetime | None = None
    next_attempt_at: datetime | None = None


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed text: handed to Twilio (`sent`, or `found` there after an uncertain send),
    refused or unanswered (`error`), not looked up and not sent (`cancelled`), or a bug (`unexpected`)."""

    text: Claimed
    sent: SentMessage | None = None
    found: bool = False
    error: TransportError | None = None
    cancelled: bool = False
    unexpected: BaseException | None = None


_OUTBOX: Table = OutboxText.__table__  # type: ignore[assignment]  # a Table, typed as a FromClause
# The columns a batch's results set, one row per parameter set (`record_results`).
_RESULT_COLUMNS = (
    "state",
    "failure_code",
    "failure_detail",
    "attempts",
    "uncertain_since",
    "next_attempt_at",
    "claimed_at",
    "message_id",
    "body",
    "sent_at",
    "updated_at",
)


def _by_id(*columns: str) -> Any:
    """One UPDATE of the outbox by id, every column a bound parameter: run with a list of rows, it is one
    executemany statement."""
    return (
        update(_OUTBOX)
        .where(_OUTBOX.c.id == bindparam("outbox_id"))
        .values({column: bindparam(column) for column in columns})
    )


def claim_in(
    session: Session, settings: Settings, now: datetime, limit: int, report: SendReport
) -> list[Claimed]:
    """`claim` inside the caller's transaction: up to `limit` due texts move to `sending` in one statement
    (`WITH due AS MATERIALIZED (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED) UPDATE ... WHERE id IN due
    RETURNING`; on SQLite its one writer does the same). Rows another worker is claiming are skipped, not waited for. A text that must not go out
    (opted out, expired, no longer true) is then cancelled with the reason; the statements for the checks and
    the cancellations are one each per batch, whatever its size."""
    due = (
        select(_OUTBOX.c.id)
        .where(_OUTBOX.c.state == PENDING)
        .where(or_(_OUTBOX.c.next_attempt_at.is_(None), _OUTBOX.c.next_attempt_at <= now))
        .order_by(_OUTBOX.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer at a time anyway
        # Materialised: run once. Planned as a subquery, PostgreSQL may run it again per row, and each run skips
        # the rows this statement has just updated, so it would claim past the limit.
        .cte("due")
        .prefix_with("MATERIALIZED")
    )
    claiming = (
        update(_OUTBOX)
        .where(_OUTBOX.c.id.in_(select(due.c.id)), _OUTBOX.c.state == PENDING)
        .values(state=SENDING, claimed_at=now, updated_at=now)
        .returning(*_OUTBOX.c)
    )
    rows = sorted(session.execute(claiming).mappings().all(), key=lambda r: int(r["id"]))
    if not rows:
        return []
    checked = [r["to_number"] for r in rows if not r["ignores_opt_out"]]
    opted_out = set(
        session.scalars(select(SmsOptOut.phone_number).where(SmsOptOut.phone_number.in_(checked)))
        if checked
        else ()
    )
    unworded = [r["callback_id"] for r in rows if r["body"] is None and r["callback_id"] is not None]
    if unworded:  # into the session, so wording each text reads its callback from memory
        session.scalars(select(CallbackRequest).where(CallbackRequest.id.in_(unworded))).all()
    claimed, cancelled, worded = [], [], []
    for row in rows:
        body, reason = row["body"], None
        if not row["ignores_opt_out"] and row["to_number"] in opted_out:
            reason = "opted_out"
        elif row["expires_at"] is not None and row["expires_at"] <= now:
            reason = "expired"
        elif body is None:
            body = _word(session, settings, row, now)
            if body is None:
                reason = "stale" if row["callback_id"] is not None else "no_body"
            else:
                worded.append({"outbox_id": row["id"], "body": body})
        if reason is not None and (row["uncertain_since"] is None or not body):
            cancelled.append(
                {
                    "outbox_id": row["id"],
                    "state": CANCELLED,
                    "failure_code": reason,
                    "failure_detail": _CANCEL_DETAIL[reason],
                    "updated_at": now,
                }
            )
            report.count("cancelled", reason)
            log.info(
                "sms cancelled", extra={"outbox": row["id"], "purpose": row["purpose"], "reason": reason}
            )
            continue
        claimed.append(
            Claimed(
                row["id"],
                row["to_number"],
                body or "",
                row["purpose"],
                row["uncertain_since"],
                reason,
                row["relative_id"],
                row["attempts"],
                now,
                row["next_attempt_at"],
            )
        )
    if worded:
        session.execute(_by_id("body"), worded)
    if cancelled:
        session.execute(_by_id("state", "failure_code", "failure_detail", "updated_at"), cancelled)
    return claimed


def _word(session: Session, settings: Settings, row: Any, now: datetime) -> str | None:
    if row["callback_id"] is None:
        return None
    text = OutboxText(
        purpose=row["purpose"],
        language=row["language"],
        callback_id=row["callback_id"],
        to_number=row["to_number"],
    )
    return word_callback_text(session, settings, text, now)


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


def _finish(row: OutboxText, state: str, code: str | None, detail: str | None, now: datetime) -> None:
    row.state, row.failure_code, row.updated_at = state, code, now
    row.failure_detail = detail[:300] if detail else None


def record_results(
    session: Session, settings: Settings, outcomes: Sequence[Outcome], now: datetime, report: SendReport
) -> None:
    """Record what became of a batch, in the caller's transaction: one INSERT puts the texts Twilio took into
    their relatives' threads (a Message each; the body lives on there only), and one UPDATE (executemany)
    records every text of the batch: sent; retried with backoff; failed for good (a permanent refusal, the last
    attempt, or a bug: unknown whether Twilio took it, so never tried again); or cancelled."""
    sent = [o for o in outcomes if o.sent is not None]
    message_ids = _thread_messages(session, settings, sent, now)
    rows = []
    for outcome in outcomes:
        text = outcome.text
        values: dict[str, Any] = {
            "outbox_id": text.id,
            "state": SENDING,
            "failure_code": None,
            "failure_detail": None,
            "attempts": text.attempts,
            "uncertain_since": text.uncertain_since,
            "next_attempt_at": text.next_attempt_at,
            "claimed_at": text.claimed_at,
            "message_id": None,
            "body": text.body,
            "sent_at": None,
            "updated_at": now,
        }
        if outcome.sent is not None:
            values.update(state=SENT, message_id=message_ids[text.id], body=None, sent_at=now)
            report.count("sent")
        elif outcome.error is not None:
            _failed_attempt(session, settings, text.to, outcome.error, values, now, report)
        elif outcome.cancelled and text.cancel_unless_found:
            reason = text.cancel_unless_found
            values.update(state=CANCELLED, failure_code=reason, failure_detail=_CANCEL_DETAIL[reason])
            report.count("cancelled", reason)
            log.info("sms cancelled", extra={"outbox": text.id, "purpose": text.purpose, "reason": reason})
        else:
            error = outcome.unexpected
            detail = f"{type(error).__name__ if error else 'no outcome'}; not retried"
            values.update(state=FAILED, failure_code="unexpected", failure_detail=detail)
            report.count("failed", "unexpected")
        rows.append(values)
    if rows:
        session.execute(_by_id(*_RESULT_COLUMNS), rows)


def _thread_messages(
    session: Session, settings: Settings, sent: Sequence[Outcome], now: datetime
) -> dict[int, int]:
    """The texts Twilio took, as Messages in their relatives' threads (one statement): outbox id -> Message id.
    A delivery status Twilio reported before the send was recorded is applied now."""
    if not sent:
        return {}
    hotline_number = settings.file.service.hotline_number
    # Matched by SID (unique), not by order: asking for RETURNING in parameter order makes SQLite insert row by row.
    inserted = session.execute(
        insert(Message).returning(Message.message_sid, Message.id),
        [
            {
                "message_sid": o.sent.sid[:64],
                "direction": "outbound",
                "from_number": hotline_number,
                "to_number": o.text.to,
                "body": o.text.body,
                "status": o.sent.status if o.sent.status in MESSAGE_STATUS_RANK else "queued",
                "relative_id": o.text.relative_id,
                "num_media": 0,
                "created_at": now,
                "updated_at": now,
            }
            for o in sent
            if o.sent is not None
        ],
    ).all()
    sids = [o.sent.sid[:64] for o in sent if o.sent is not None]
    early = session.scalars(select(SmsStatusEvent).where(SmsStatusEvent.message_sid.in_(sids))).all()
    for event in sorted(early, key=lambda e: MESSAGE_STATUS_RANK.get(e.status, 0)):
        apply_message_status(session, event.message_sid, event.status, event.error_code)
    ids = {sid: message_id for sid, message_id in inserted}
    return {o.text.id: ids[o.sent.sid[:64]] for o in sent if o.sent is not None}


def _failed_attempt(
    session: Session,
    settings: Settings,
    to: str,
    error: TransportError,
    values: dict[str, Any],
    now: datetime,
    report: SendReport,
) -> None:
    """An attempt failed: retried with backoff, or failed for good (a permanent refusal, or the last attempt)."""
    sms = settings.file.sms
    code = error.code or "error"
    attempts = values["attempts"] = values["attempts"] + 1
    if code in AMBIGUOUS_CODES and values["uncertain_since"] is None:
        values["uncertain_since"] = values["claimed_at"] or now
    outbox_id = values["outbox_id"]
    if error.permanent or attempts >= sms.send_attempts:
        detail = error.message if error.permanent else f"gave up after {attempts} attempts: {error.message}"
        values.update(state=FAILED, failure_code=code[:64], failure_detail=detail[:300])
        if code == TWILIO_UNSUBSCRIBED:
            opt_out(session, to, source=f"twilio:{code}", now=now)
        report.count("failed", code)
        log.warning("sms failed", extra={"outbox": outbox_id, "code": code, "attempts": attempts})
        return
    delay = min(sms.retry_seconds * 2 ** (attempts - 1), sms.retry_max_seconds)
    values.update(
        state=PENDING,
        failure_code=code[:64],
        failure_detail=error.message[:300],
        next_attempt_at=now + timedelta(seconds=delay),
        claimed_at=None,
    )
    report.count("retrying", code)
    log.info("sms will be retried", extra={"outbox": outbox_id, "code": code, "in_seconds": delay})

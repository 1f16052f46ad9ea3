"""A data subject's erasure (GDPR Art. 17): what is held about one relative erased here, by the retention purge's
means (hotline.services.retention), and Twilio's copies queued in `remote_erasures` for hotline.jobs.erasure.
Numbers become their pseudonym, so rows still count in statistics; contents (texts, notes, voicemail references)
are blanked; the relative's language and contact person are forgotten. Open callbacks are cancelled first. An
opt-out (STOP) is kept: it holds only the number, and honouring it is the relative's own objection (Art. 21;
Art. 17(3)(b)). The rows are found by hotline.services.subject_access, and the request recorded there. Functions
take a session and never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, or_, select, update
from sqlalchemy.orm import Session

from hotline.db.models import (
    Call,
    CallbackAttempt,
    CallbackRefusal,
    CallbackRequest,
    DemoOutbound,
    Message,
    OutboxText,
    Recording,
    Relative,
    SmsOptOut,
)
from hotline.services import callback_queue, erasure, outbox
from hotline.services.pseudonyms import pseudonym
from hotline.services.retention import FORGOTTEN, merge_relative
from hotline.services.subject_access import ERASURE, Holdings, among, holdings, record_request
from routing.callback_states import Event, State

_BUSY_STATES = (State.IN_PROGRESS.value,)
_CANCELLABLE = tuple(s.value for s in (State.REQUESTED, State.SCHEDULED, State.NOT_REACHED))


class ErasureRefused(Exception):
    """The erasure cannot run now: `message_id` (staff catalogue) says why."""

    def __init__(self, message_id: str) -> None:
        super().__init__(message_id)
        self.message_id = message_id


def _busy(session: Session, found: Holdings) -> bool:
    """A callback to the relative is being dialled, or a text to them handed to Twilio: the number is in use."""
    dialling = session.scalar(
        select(CallbackRequest.id)
        .where(among(CallbackRequest.id, found.callbacks), CallbackRequest.state.in_(_BUSY_STATES))
        .limit(1)
    )
    sending = session.scalar(
        select(OutboxText.id)
        .where(among(OutboxText.id, found.outbox), OutboxText.state == outbox.SENDING)
        .limit(1)
    )
    return dialling is not None or sending is not None


@dataclass
class ErasurePlan:
    """What an erasure will do, for the confirmation page."""

    open_callbacks: int
    busy: bool
    rows: dict[str, int]
    twilio: int
    opted_out: bool


def plan(session: Session, relative: Relative) -> ErasurePlan:
    found = holdings(session, relative)
    states = list(
        session.scalars(select(CallbackRequest.state).where(among(CallbackRequest.id, found.callbacks)))
    )
    opted_out = session.get(SmsOptOut, found.number) is not None
    rows = {
        "calls": len(found.calls),
        "messages": len(found.messages),
        "sms_outbox": len(found.outbox),
        "callback_requests": len(found.callbacks),
        "recordings": len(found.recordings),
    }
    twilio = len(
        {("recording", s) for s in found.recording_sids}
        | {(k, s) for s in found.message_sids for k in ("message", "message_record")}
        | {("call", s) for s in [*found.call_sids, *found.attempt_call_sids]}
    )
    return ErasurePlan(
        open_callbacks=sum(state in _CANCELLABLE for state in states),
        busy=_busy(session, found),
        rows=rows,
        twilio=twilio,
        opted_out=opted_out,
    )


@dataclass
class Erased:
    """What one erasure did."""

    request_id: int
    alias: str
    callbacks_cancelled: int
    rows: int
    twilio_queued: int

    def summary(self) -> str:
        return (
            f"callbacks_cancelled={self.callbacks_cancelled}, rows={self.rows}, "
            f"twilio_erasures_queued={self.twilio_queued}"
        )


def _update(session: Session, model: Any, ids: Sequence[int], where: Sequence[Any], **values: Any) -> int:
    """UPDATE `model` rows among `ids` (and `where`) to `values`, keeping `updated_at` as it was; how many."""
    if not ids:
        return 0
    table: Table = model.__table__
    statement = update(table).where(table.c.id.in_(ids), *where).values(**values)
    if "updated_at" in table.c:
        statement = statement.values(updated_at=table.c.updated_at)
    return int(cast(CursorResult[Any], session.execute(statement)).rowcount or 0)


def erase(
    session: Session,
    relative: Relative,
    *,
    key: bytes,
    actor: str,
    account_id: int | None,
    now: datetime,
    remote_addr: str | None = None,
) -> Erased:
    """Erase what is held about `relative` here, and queue Twilio's copies: open callbacks cancelled first,
    texts waiting in the outbox cancelled, numbers pseudonymised, contents blanked. Raises ErasureRefused while
    a callback is being dialled or a text is being handed to Twilio (the number is in use this minute)."""
    number, relative_id = relative.phone_number, relative.id
    alias = pseudonym(key, number)
    cancelled = 0
    for callback in session.scalars(
        select(CallbackRequest)
        .where(
            or_(CallbackRequest.relative_id == relative_id, CallbackRequest.phone_number == number),
            CallbackRequest.state.in_(_CANCELLABLE),
        )
        .order_by(CallbackRequest.id)
        .with_for_update()  # PostgreSQL: a dialler taking one of them now waits for this transaction
    ).all():
        callback_queue.move(session, callback, Event.CANCEL, f"staff:{actor}"[:100], now)
        cancelled += 1
    session.flush()
    found = holdings(session, relative)  # again: the cancellations wrote status texts, cancelled just below
    # Conditional: a text the sender has claimed meanwhile is no longer pending, and is caught just below.
    rows = _update(
        session,
        OutboxText,
        found.outbox,
        [OutboxText.state == outbox.PENDING],
        state=outbox.CANCELLED,
        failure_code="erased",
        failure_detail=None,
    )
    # Checked after the cancellations, in their transaction, so nothing taken before them slips through (a text
    # claimed after a check made first would go out, and keep its number): refused, the caller rolls back.
    if _busy(session, found):
        raise ErasureRefused("console.gdpr.error.busy")
    twilio = (
        erasure.queue(session, "recording", found.recording_sids, now)
        + erasure.queue(session, "message", found.message_sids, now)
        + erasure.queue(session, "message_record", found.message_sids, now)
        + erasure.queue(session, "call", [*found.call_sids, *found.attempt_call_sids], now)
    )
    rows += _update(
        session, Message, found.messages, [Message.body.is_not(None)], body=None, body_purged_at=now
    )
    rows += _update(
        session, OutboxText, found.outbox, [OutboxText.body.is_not(None)], body=None, body_purged_at=now
    )
    for ids, columns in (
        (found.calls, (Call.from_number, Call.to_number)),
        (found.messages, (Message.from_number, Message.to_number)),
        (found.outbox, (OutboxText.to_number,)),
        (found.callbacks, (CallbackRequest.phone_number,)),
    ):
        for column in columns:
            rows += _update(session, column.class_, ids, [column == number], **{column.key: alias})
    # Twilio's error wording can quote the number (as the purge handles it).
    for outbox_id, detail in session.execute(
        select(OutboxText.id, OutboxText.failure_detail).where(
            among(OutboxText.id, found.outbox), OutboxText.failure_detail.contains(number)
        )
    ).all():
        rows += _update(
            session, OutboxText, [outbox_id], [], failure_detail=(detail or "").replace(number, alias)
        )
    rows += _update(
        session,
        CallbackRequest,
        found.callbacks,
        [CallbackRequest.recording_sid.is_not(None)],
        recording_sid=None,
    )
    attempts = list(
        session.scalars(
            select(CallbackAttempt.id).where(
                among(CallbackAttempt.callback_id, found.callbacks), CallbackAttempt.note.is_not(None)
            )
        )
    )
    rows += _update(session, CallbackAttempt, attempts, [], note=None)
    rows += _update(session, Recording, found.recordings, [], recording_url=None, from_number=None)
    refusals = list(session.scalars(select(CallbackRefusal.id).where(CallbackRefusal.phone_number == number)))
    rows += _update(
        session, CallbackRefusal, refusals, [], phone_number=None, call_sid=None, recording_sid=None
    )
    demo = list(
        session.scalars(
            select(DemoOutbound.id).where(
                or_(DemoOutbound.to_number == number, DemoOutbound.from_number == number)
            )
        )
    )
    rows += _update(session, DemoOutbound, demo, [], body=None)
    rows += _update(session, DemoOutbound, demo, [DemoOutbound.to_number == number], to_number=alias)
    rows += _update(session, DemoOutbound, demo, [DemoOutbound.from_number == number], from_number=alias)
    earlier = session.scalars(select(Relative.id).where(Relative.phone_number == alias)).first()
    if earlier is None:
        rows += _update(
            session,
            Relative,
            [relative_id],
            [],
            phone_number=alias,
            **FORGOTTEN,
        )
        session.expire(relative)
    else:
        # The number was pseudonymised once before (quiet past retention) and came back: one relative, one row.
        session.expunge(relative)
        merge_relative(session, relative_id, into=earlier)
        relative_id = earlier
        rows += 1
    request = record_request(
        session,
        kind=ERASURE,
        relative_id=relative_id,
        alias=alias,
        actor=actor,
        account_id=account_id,
        now=now,
        detail=f"callbacks_cancelled={cancelled}, rows={rows}, twilio_erasures_queued={twilio}",
        remote_addr=remote_addr,
    )
    return Erased(request.id, alias, cancelled, rows, twilio)

"""A data subject's requests (GDPR Art. 15, 17, 20): everything held about one relative gathered for an export,
or erased, by their phone number; each request recorded in `data_requests` (the pseudonym of the number, never
the number) and in the audit log.

What is "about the relative": their `relatives` row and every row that points at it (`relative_id`), every row
that holds their number (calls, texts, outbox texts, callbacks, refused callbacks, voicemails, the demo's copies,
the opt-out registry), and what hangs off those (call events, delivery statuses, the callbacks' calls,
transitions, attempts and notes). `TABLES` names them all; a test walks the models and fails when a table with a
`relative_id` column is missing from it.

Erasure reuses the retention purge's means (hotline.services.retention): numbers become their pseudonym, so rows
still count in statistics; contents (texts, notes, voicemail references) are blanked; the relative's language and
contact person are forgotten; Twilio's copies are queued in `remote_erasures` for `hotline.jobs.erasure`. Open
callbacks are cancelled first. An opt-out (STOP) is kept: it holds only the number, and honouring it is the
relative's own objection (Art. 21; Art. 17(3)(b)). Functions take a session and never commit.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Table, false, or_, select, update
from sqlalchemy.orm import Session

from hotline.db.models import (
    AuditEntry,
    Base,
    Call,
    CallbackAttempt,
    CallbackCall,
    CallbackRefusal,
    CallbackRequest,
    CallbackTransition,
    CallEvent,
    CallRouting,
    DataRequest,
    DemoOutbound,
    Message,
    OutboxText,
    Recording,
    Relative,
    SmsOptOut,
    SmsStatusEvent,
)
from hotline.services import audit, callback_queue, erasure, outbox, spreadsheet
from hotline.services.pseudonyms import is_pseudonym, pseudonym
from hotline.services.retention import merge_relative
from routing.callback_states import Event, State

EXPORT, ERASURE = "export", "erasure"
# Every table an export holds, in this order. `audit_log` and `data_requests` say what was done with the data.
TABLES = (
    "relatives",
    "calls",
    "call_events",
    "call_routing",
    "messages",
    "sms_status_events",
    "sms_outbox",
    "callback_requests",
    "callback_calls",
    "callback_transitions",
    "callback_attempts",
    "callback_refusals",
    "recordings",
    "demo_outbound",
    "sms_opt_outs",
    "audit_log",
    "data_requests",
)
_BUSY_STATES = (State.IN_PROGRESS.value,)
_CANCELLABLE = tuple(s.value for s in (State.REQUESTED, State.SCHEDULED, State.NOT_REACHED))


class ErasureRefused(Exception):
    """The erasure cannot run now: `message_id` (staff catalogue) says why."""

    def __init__(self, message_id: str) -> None:
        super().__init__(message_id)
        self.message_id = message_id


def find(session: Session, number: str) -> Relative | None:
    """The relative with this E.164 number (normalised at the edge); None for an unknown or erased one."""
    if is_pseudonym(number):
        return None
    return session.scalars(select(Relative).where(Relative.phone_number == number)).one_or_none()


@dataclass
class Holdings:
    """The ids of what is held about one relative, found once and used by both the export and the erasure."""

    relative: Relative
    number: str
    calls: list[int] = field(default_factory=list)
    call_sids: list[str] = field(default_factory=list)
    messages: list[int] = field(default_factory=list)
    message_sids: list[str] = field(default_factory=list)
    outbox: list[int] = field(default_factory=list)
    callbacks: list[int] = field(default_factory=list)
    recordings: list[int] = field(default_factory=list)
    recording_sids: list[str] = field(default_factory=list)
    attempt_call_sids: list[str] = field(default_factory=list)


def _ids(session: Session, model: Any, where: ColumnElement[bool]) -> list[int]:
    return list(session.scalars(select(model.id).where(where).order_by(model.id)))


def _in(column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    return column.in_(values) if values else false()


def holdings(session: Session, relative: Relative) -> Holdings:
    """Find every row about `relative`: those pointing at them and those holding their number."""
    number = relative.phone_number
    found = Holdings(relative, number)
    found.calls = _ids(
        session,
        Call,
        or_(Call.relative_id == relative.id, Call.from_number == number, Call.to_number == number),
    )
    found.call_sids = list(session.scalars(select(Call.call_sid).where(_in(Call.id, found.calls))))
    found.messages = _ids(
        session,
        Message,
        or_(Message.relative_id == relative.id, Message.from_number == number, Message.to_number == number),
    )
    found.message_sids = [
        sid
        for sid in session.scalars(select(Message.message_sid).where(_in(Message.id, found.messages)))
        if sid
    ]
    found.outbox = _ids(
        session, OutboxText, or_(OutboxText.relative_id == relative.id, OutboxText.to_number == number)
    )
    found.callbacks = _ids(
        session,
        CallbackRequest,
        or_(CallbackRequest.relative_id == relative.id, CallbackRequest.phone_number == number),
    )
    callback_recordings = [
        sid
        for sid in session.scalars(
            select(CallbackRequest.recording_sid).where(_in(CallbackRequest.id, found.callbacks))
        )
        if sid
    ]
    found.recordings = _ids(
        session,
        Recording,
        or_(
            Recording.from_number == number,
            _in(Recording.call_sid, found.call_sids),
            _in(Recording.recording_sid, callback_recordings),
        ),
    )
    found.recording_sids = list(
        session.scalars(select(Recording.recording_sid).where(_in(Recording.id, found.recordings)))
    )
    found.attempt_call_sids = [
        sid
        for sid in session.scalars(
            select(CallbackAttempt.relative_call_sid).where(_in(CallbackAttempt.callback_id, found.callbacks))
        )
        if sid
    ]
    return found


def _selections(found: Holdings) -> dict[str, tuple[Any, ColumnElement[bool]]]:
    """Per table: its model and the rows of it about the relative."""
    number, relative_id = found.number, found.relative.id
    return {
        "relatives": (Relative, Relative.id == relative_id),
        "calls": (Call, _in(Call.id, found.calls)),
        "call_events": (CallEvent, _in(CallEvent.call_id, found.calls)),
        "call_routing": (CallRouting, CallRouting.relative_id == relative_id),
        "messages": (Message, _in(Message.id, found.messages)),
        "sms_status_events": (SmsStatusEvent, _in(SmsStatusEvent.message_sid, found.message_sids)),
        "sms_outbox": (OutboxText, _in(OutboxText.id, found.outbox)),
        "callback_requests": (CallbackRequest, _in(CallbackRequest.id, found.callbacks)),
        "callback_calls": (CallbackCall, _in(CallbackCall.callback_id, found.callbacks)),
        "callback_transitions": (CallbackTransition, _in(CallbackTransition.callback_id, found.callbacks)),
        "callback_attempts": (CallbackAttempt, _in(CallbackAttempt.callback_id, found.callbacks)),
        "callback_refusals": (CallbackRefusal, CallbackRefusal.phone_number == number),
        "recordings": (Recording, _in(Recording.id, found.recordings)),
        "demo_outbound": (
            DemoOutbound,
            or_(DemoOutbound.to_number == number, DemoOutbound.from_number == number),
        ),
        "sms_opt_outs": (SmsOptOut, SmsOptOut.phone_number == number),
        "audit_log": (AuditEntry, AuditEntry.relative_id == relative_id),
        "data_requests": (DataRequest, DataRequest.relative_id == relative_id),
    }


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def gather(session: Session, relative: Relative) -> dict[str, list[dict[str, object]]]:
    """Everything held about `relative`, per table (TABLES), each row with every column (times in ISO 8601 UTC)."""
    found = holdings(session, relative)
    tables: dict[str, list[dict[str, object]]] = {}
    for name, (model, where) in _selections(found).items():
        table: Table = model.__table__
        first = next(iter(table.primary_key.columns))
        rows = session.execute(select(table).where(where).order_by(first)).mappings()
        tables[name] = [{column: _plain(value) for column, value in row.items()} for row in rows]
    return tables


def as_json(relative_id: int, tables: dict[str, list[dict[str, object]]], now: datetime) -> bytes:
    document = {"relative_id": relative_id, "exported_at": now.isoformat(), "tables": tables}
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def as_csv_zip(tables: dict[str, list[dict[str, object]]]) -> bytes:
    """A zip of one CSV per table (`calls.csv`, ...), each with that table's columns as its header, also when
    it has no rows (hotline.services.spreadsheet: a BOM, formulas defused)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, rows in tables.items():
            columns = [column.name for column in Base.metadata.tables[name].columns]
            archive.writestr(f"{name}.csv", spreadsheet.to_csv(columns, rows))
    return buffer.getvalue()


def record_request(
    session: Session,
    *,
    kind: str,
    relative_id: int,
    alias: str,
    actor: str,
    account_id: int | None,
    now: datetime,
    detail: str,
    remote_addr: str | None = None,
) -> DataRequest:
    """The request in `data_requests` and the audit log (EXPORTED or ERASED), in the caller's transaction."""
    request = DataRequest(
        kind=kind,
        relative_id=relative_id,
        number_pseudonym=alias,
        requested_by=actor[:100],
        requested_at=now,
        completed_at=now,
        detail=detail[:300],
    )
    session.add(request)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=audit.Action.EXPORTED if kind == EXPORT else audit.Action.ERASED,
        account_id=account_id,
        relative_id=relative_id,
        subject=f"data_request:{request.id}",
        detail=detail,
        remote_addr=remote_addr,
        at=now,
    )
    return request


def export(
    session: Session,
    relative: Relative,
    *,
    fmt: str,
    key: bytes,
    actor: str,
    account_id: int | None,
    now: datetime,
    remote_addr: str | None = None,
) -> bytes:
    """The relative's data as JSON (`fmt` "json") or a zip of CSVs ("csv"); the request is recorded first, so
    the export holds its own record."""
    record_request(
        session,
        kind=EXPORT,
        relative_id=relative.id,
        alias=pseudonym(key, relative.phone_number),
        actor=actor,
        account_id=account_id,
        now=now,
        detail=f"format={fmt}",
        remote_addr=remote_addr,
    )
    tables = gather(session, relative)
    return as_json(relative.id, tables, now) if fmt == "json" else as_csv_zip(tables)


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
        session.scalars(select(CallbackRequest.state).where(_in(CallbackRequest.id, found.callbacks)))
    )
    sending = session.scalar(
        select(OutboxText.id)
        .where(_in(OutboxText.id, found.outbox), OutboxText.state == outbox.SENDING)
        .limit(1)
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
        busy=any(state in _BUSY_STATES for state in states) or sending is not None,
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
    if plan(session, relative).busy:
        raise ErasureRefused("console.gdpr.error.busy")
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
    ).all():
        callback_queue.move(session, callback, Event.CANCEL, f"staff:{actor}"[:100], now)
        cancelled += 1
    session.flush()
    found = holdings(session, relative)  # again: the cancellations wrote status texts, cancelled just below
    twilio = (
        erasure.queue(session, "recording", found.recording_sids, now)
        + erasure.queue(session, "message", found.message_sids, now)
        + erasure.queue(session, "message_record", found.message_sids, now)
        + erasure.queue(session, "call", [*found.call_sids, *found.attempt_call_sids], now)
    )
    rows = _update(
        session,
        OutboxText,
        found.outbox,
        [OutboxText.state == outbox.PENDING],
        state=outbox.CANCELLED,
        failure_code="erased",
        failure_detail=None,
    )
    rows += _update(
        session, Message, found.messages, [Message.body.is_not(None)], body=None, body_purged_at=now
    )
    rows += _update(
        session, OutboxText, found.outbox, [OutboxText.body.is_not(None)], body=None, body_purged_at=now
    )
    for model, columns in (
        (Call, (Call.from_number, Call.to_number)),
        (Message, (Message.from_number, Message.to_number)),
        (OutboxText, (OutboxText.to_number,)),
        (CallbackRequest, (CallbackRequest.phone_number,)),
    ):
        ids = {
            Call: found.calls,
            Message: found.messages,
            OutboxText: found.outbox,
            CallbackRequest: found.callbacks,
        }[model]
        for column in columns:
            rows += _update(session, model, ids, [column == number], **{column.key: alias})
    # Twilio's error wording can quote the number (as the purge handles it).
    for outbox_id, detail in session.execute(
        select(OutboxText.id, OutboxText.failure_detail).where(
            _in(OutboxText.id, found.outbox), OutboxText.failure_detail.contains(number)
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
                _in(CallbackAttempt.callback_id, found.callbacks), CallbackAttempt.note.is_not(None)
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
            language=None,
            contact_person_id=None,
            last_advisor_id=None,
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

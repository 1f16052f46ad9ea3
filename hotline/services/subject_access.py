"""A data subject's requests (GDPR Art. 15, 20): everything held about one relative found by their phone number,
gathered and exported; each request (this one, and an erasure in hotline.services.subject_erasure) recorded in
`data_requests` (the pseudonym of the number, never the number) and in the audit log.

What is "about the relative": their `relatives` row and every row that points at it (`relative_id`), every row
that holds their number (calls, texts, outbox texts, callbacks, refused callbacks, voicemails, the demo's copies,
the opt-out registry), and what hangs off those (call events, delivery statuses, the callbacks' calls,
transitions, attempts and notes). `TABLES` names them all; a test walks the models and fails when a table with a
`relative_id` column is missing from it. Functions take a session and never commit.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, false, or_, select
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
from hotline.services import audit, spreadsheet
from hotline.services.pseudonyms import is_pseudonym, pseudonym

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


def among(column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """SQL: `column` is one of `values` (false when there are none)."""
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
    found.call_sids = list(session.scalars(select(Call.call_sid).where(among(Call.id, found.calls))))
    found.messages = _ids(
        session,
        Message,
        or_(Message.relative_id == relative.id, Message.from_number == number, Message.to_number == number),
    )
    found.message_sids = [
        sid
        for sid in session.scalars(select(Message.message_sid).where(among(Message.id, found.messages)))
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
            select(CallbackRequest.recording_sid).where(among(CallbackRequest.id, found.callbacks))
        )
        if sid
    ]
    found.recordings = _ids(
        session,
        Recording,
        or_(
            Recording.from_number == number,
            among(Recording.call_sid, found.call_sids),
            among(Recording.recording_sid, callback_recordings),
        ),
    )
    found.recording_sids = list(
        session.scalars(select(Recording.recording_sid).where(among(Recording.id, found.recordings)))
    )
    found.attempt_call_sids = [
        sid
        for sid in session.scalars(
            select(CallbackAttempt.relative_call_sid).where(
                among(CallbackAttempt.callback_id, found.callbacks)
            )
        )
        if sid
    ]
    return found


def _selections(found: Holdings) -> dict[str, tuple[Any, ColumnElement[bool]]]:
    """Per table: its model and the rows of it about the relative."""
    number, relative_id = found.number, found.relative.id
    return {
        "relatives": (Relative, Relative.id == relative_id),
        "calls": (Call, among(Call.id, found.calls)),
        "call_events": (CallEvent, among(CallEvent.call_id, found.calls)),
        "call_routing": (CallRouting, CallRouting.relative_id == relative_id),
        "messages": (Message, among(Message.id, found.messages)),
        "sms_status_events": (SmsStatusEvent, among(SmsStatusEvent.message_sid, found.message_sids)),
        "sms_outbox": (OutboxText, among(OutboxText.id, found.outbox)),
        "callback_requests": (CallbackRequest, among(CallbackRequest.id, found.callbacks)),
        "callback_calls": (CallbackCall, among(CallbackCall.callback_id, found.callbacks)),
        "callback_transitions": (CallbackTransition, among(CallbackTransition.callback_id, found.callbacks)),
        "callback_attempts": (CallbackAttempt, among(CallbackAttempt.callback_id, found.callbacks)),
        "callback_refusals": (CallbackRefusal, CallbackRefusal.phone_number == number),
        "recordings": (Recording, among(Recording.id, found.recordings)),
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

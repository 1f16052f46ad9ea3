"""Personal data past its retention (config.yaml `retention`, docs/records-of-processing.md): contents blanked,
phone numbers replaced by their pseudonym (hotline.services.pseudonyms), and Twilio's copies queued for erasure
in the same transaction.

Every statement selects by an indexed timestamp and works through BATCH rows at a time, so the first purge of
years of data never holds a table in memory, and a second run finds nothing left to do. Rows stay, so calls,
texts and callbacks per day can still be counted, and distinct relatives by pseudonym or relative id. Never
touched: open callbacks and their relatives, texts still waiting in the outbox, and the opt-out registry (a STOP
is honoured for as long as it is in force, so its number is kept until START).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, exists, or_, select, text, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from hotline.config.settings import Settings
from hotline.db.models import (
    Call,
    CallbackAttempt,
    CallbackRefusal,
    CallbackRequest,
    CallRouting,
    DemoOutbound,
    Message,
    OutboxText,
    Recording,
    Relative,
)
from hotline.services import erasure
from hotline.services.outbox import CANCELLED, FAILED, PENDING, SENDING, SENT
from hotline.services.pseudonyms import holds_number, is_pseudonym, pseudonym
from routing.callback_states import FINAL_STATES
from routing.wallclock import local_date, wall_to_utc

log = logging.getLogger(__name__)

BATCH = 500  # rows per statement
_CLOSED = tuple(state.value for state in FINAL_STATES)
_FINISHED = (SENT, FAILED, CANCELLED)
# Every table that points at a relative: what moves when two pseudonymous relatives turn out to be one number.
_POINTS_AT_RELATIVE: tuple[Any, ...] = (Call, Message, OutboxText, CallbackRequest, CallRouting)
# What a relative forgets along with their number (here, and in an erasure: hotline.services.subject_erasure).
FORGOTTEN: dict[str, Any] = {"language": None, "contact_person_id": None, "last_advisor_id": None}


@dataclass
class Purged:
    """How many rows of each kind of personal data one purge blanked or pseudonymised (the rows remain)."""

    message_bodies: int = 0
    outbox_bodies: int = 0
    demo_bodies: int = 0
    recordings: int = 0
    callback_recordings: int = 0
    notes: int = 0
    refused_callbacks: int = 0
    call_numbers: int = 0
    message_numbers: int = 0
    outbox_numbers: int = 0
    demo_numbers: int = 0
    callback_numbers: int = 0
    relatives: int = 0
    twilio_erasures_queued: int = 0

    def summary(self) -> str:
        """The counts that are not zero, e.g. "message_bodies=3, relatives=1"; "nothing" when all are."""
        done = [f"{f.name}={getattr(self, f.name)}" for f in fields(self) if getattr(self, f.name)]
        return ", ".join(done) or "nothing"


def purge_personal_data(session: Session, settings: Settings, now: datetime, key: bytes) -> Purged:
    """Blank contents and pseudonymise numbers past their retention, counted in whole local days before the
    date of `now`; `key` makes the pseudonyms."""
    retention = settings.file.retention
    today = local_date(now)
    if session.get_bind().dialect.name == "postgresql":
        # The batched selects below run many times with new bounds; after five, psycopg prepares them and
        # PostgreSQL may keep a generic plan that cannot use the timestamp index: at 100x data a purge that finds
        # nothing took 383 ms instead of 38 (benchmarks/scale.py). Plan each for its values, in this transaction.
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))

    def before(days: int) -> datetime:
        # Whole Copenhagen days: what arrived on 10 June is kept all of the `days` days after it, whatever the
        # hour the purge runs at (a late run catches up, it never cuts deeper) and across daylight saving.
        return wall_to_utc(today - timedelta(days=days), time(0))

    bodies, recordings = before(retention.message_bodies_days), before(retention.recordings_days)
    outbox_rows = before(retention.outbox_days)

    def blank(model: Any, age: Any, cutoff: datetime, columns: Sequence[Any], stamped: bool = False) -> int:
        """Set `columns` to NULL on rows older than `cutoff` that still hold any of them; how many rows."""
        values: dict[str, Any] = {column.key: None for column in columns}
        if stamped:
            values["body_purged_at"] = now
        statement = (
            update(model)
            .where(age < cutoff, or_(*(column.is_not(None) for column in columns)))
            .values(**values)
            .returning(model.id)
            .execution_options(synchronize_session=False)
        )
        return len(session.execute(statement).all())

    # Twilio's copies of the same data are queued for erasure first, in this transaction (hotline.services.erasure).
    queued = erasure.queue_purged(
        session,
        now,
        recordings_before=recordings,
        bodies_before=bodies,
        message_records_before=before(retention.message_records_days),
        calls_before=before(retention.call_records_days),
    )
    return Purged(
        twilio_erasures_queued=queued,
        message_bodies=blank(Message, Message.created_at, bodies, [Message.body], stamped=True),
        outbox_bodies=blank(OutboxText, OutboxText.created_at, bodies, [OutboxText.body], stamped=True),
        demo_bodies=blank(DemoOutbound, DemoOutbound.created_at, bodies, [DemoOutbound.body]),
        recordings=blank(
            Recording, Recording.received_at, recordings, [Recording.recording_url, Recording.from_number]
        ),
        callback_recordings=blank(
            CallbackRequest, CallbackRequest.created_at, recordings, [CallbackRequest.recording_sid]
        ),
        notes=blank(
            CallbackAttempt,
            CallbackAttempt.started_at,
            before(retention.notes_days),
            [CallbackAttempt.note],
        ),
        call_numbers=_pseudonymise(
            session,
            key,
            Call.created_at,
            before(retention.call_records_days),
            [Call.from_number, Call.to_number],
        ),
        message_numbers=_pseudonymise(
            session,
            key,
            Message.created_at,
            before(retention.message_records_days),
            [Message.from_number, Message.to_number],
        ),
        # A text still to be sent keeps its number whatever its age; Twilio's error wording can quote it.
        outbox_numbers=_pseudonymise(
            session,
            key,
            OutboxText.created_at,
            outbox_rows,
            [OutboxText.to_number],
            where=[OutboxText.state.in_(_FINISHED)],
            quoting=[OutboxText.failure_detail],
        ),
        demo_numbers=_pseudonymise(
            session,
            key,
            DemoOutbound.created_at,
            outbox_rows,
            [DemoOutbound.to_number, DemoOutbound.from_number],
        ),
        # Closed means reached or cancelled; an open callback keeps its number for as long as it is open.
        callback_numbers=_pseudonymise(
            session,
            key,
            CallbackRequest.updated_at,
            before(retention.closed_callbacks_days),
            [CallbackRequest.phone_number],
            where=[CallbackRequest.state.in_(_CLOSED)],
        ),
        relatives=_forget_relatives(session, key, before(retention.relatives_days)),
        # A callback the caps refused: the voicemail left instead goes with the recordings, the rest with the
        # call records; the row stays, so refusals can still be counted.
        refused_callbacks=blank(
            CallbackRefusal, CallbackRefusal.created_at, recordings, [CallbackRefusal.recording_sid]
        )
        + blank(
            CallbackRefusal,
            CallbackRefusal.created_at,
            before(retention.call_records_days),
            [CallbackRefusal.phone_number, CallbackRefusal.call_sid],
        ),
    )


def _pseudonymise(
    session: Session,
    key: bytes,
    age: InstrumentedAttribute[datetime],
    cutoff: datetime,
    numbers: Sequence[InstrumentedAttribute[Any]],
    *,
    where: Sequence[Any] = (),
    quoting: Sequence[InstrumentedAttribute[Any]] = (),
) -> int:
    """Replace the numbers in `numbers` by their pseudonyms on rows older than `cutoff` (and in the text of
    `quoting`, where a number may be quoted); `updated_at` is left as it was. How many rows."""
    model = age.class_
    table = model.__table__
    columns = [*numbers, *quoting]
    number_keys = {column.key for column in numbers}
    statement = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values({column.key: bindparam(f"new_{column.key}") for column in columns})
    )
    if "updated_at" in table.c:
        statement = statement.values(updated_at=table.c.updated_at)
    pending = or_(*(holds_number(column) for column in numbers))
    done, last = 0, 0
    while rows := session.execute(
        select(model.id, *columns)
        .where(model.id > last, age < cutoff, pending, *where)
        .order_by(model.id)
        .limit(BATCH)
    ).all():
        changes = []
        for row in rows:
            found = [value for value in row[1 : 1 + len(numbers)] if value and not is_pseudonym(value)]
            change: dict[str, Any] = {"row_id": row[0]}
            for column, value in zip(columns, row[1:], strict=True):
                if column.key in number_keys:
                    change[f"new_{column.key}"] = pseudonym(key, value) if value else value
                else:
                    for number in found:
                        value = value.replace(number, pseudonym(key, number)) if value else value
                    change[f"new_{column.key}"] = value
            changes.append(change)
        session.execute(statement, changes)
        done += len(rows)
        last = rows[-1][0]
    return done


def _forget_relatives(session: Session, key: bytes, cutoff: datetime) -> int:
    """Relatives with no call, text or callback since `cutoff` and nothing open: the number becomes its
    pseudonym, the language and contact person are forgotten. How many relatives."""
    recent_or_open = or_(
        exists().where(
            CallbackRequest.relative_id == Relative.id,
            or_(CallbackRequest.state.not_in(_CLOSED), CallbackRequest.updated_at >= cutoff),
        ),
        exists().where(OutboxText.relative_id == Relative.id, OutboxText.state.in_((PENDING, SENDING))),
        exists().where(Message.relative_id == Relative.id, Message.created_at >= cutoff),
        exists().where(Call.relative_id == Relative.id, Call.created_at >= cutoff),
    )
    table = cast(Table, Relative.__table__)
    forget = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(phone_number=bindparam("alias"), **FORGOTTEN)
    )
    done, last = 0, 0
    while rows := session.execute(
        select(Relative.id, Relative.phone_number)
        .where(
            Relative.id > last,
            Relative.last_contact_at < cutoff,
            holds_number(Relative.phone_number),
            ~recent_or_open,
        )
        .order_by(Relative.id)
        .limit(BATCH)
    ).all():
        aliases = {relative_id: pseudonym(key, number) for relative_id, number in rows}
        # A number that came back after it was pseudonymised once, and went quiet again: one relative, one row.
        earlier = dict(
            session.execute(
                select(Relative.phone_number, Relative.id).where(Relative.phone_number.in_(aliases.values()))
            ).all()
        )
        fresh = [{"row_id": rid, "alias": alias} for rid, alias in aliases.items() if alias not in earlier]
        if fresh:
            session.execute(forget, fresh)
        for relative_id, alias in aliases.items():
            if alias in earlier:
                merge_relative(session, relative_id, into=earlier[alias])
        done += len(rows)
        last = rows[-1][0]
    return done


def merge_relative(session: Session, relative_id: int, *, into: int) -> None:
    """Move everything of relative `relative_id` to relative `into` and delete the first (the purge, and an
    erasure in hotline.services.subject_erasure, when the number's pseudonym already has a relative)."""
    for model in _POINTS_AT_RELATIVE:
        session.execute(
            update(model)
            .where(model.relative_id == relative_id)
            .values(relative_id=into)
            .execution_options(synchronize_session=False)
        )
    session.execute(
        delete(Relative).where(Relative.id == relative_id).execution_options(synchronize_session=False)
    )

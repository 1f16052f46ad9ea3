"""Rows about one relative in the tables that can hold their data, for the tests of the data-subject requests
(tests/hotline/test_console_gdpr.py, tests/browser/test_gdpr.py) and of the retention purge
(tests/hotline/test_retention.py), and `rows_holding`, the check that a number is gone from every column.

`seed_subject`: something in every table: texts in and out, outbox texts (one waiting, one Twilio refused quoting
the number), a call with its events and routing, a voicemail, an open callback with a note and a closed one with
an attempt, a refused callback, the demo's copy, an audit row; optionally an opt-out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, Text, func, select
from sqlalchemy.orm import Session

from hotline.db.models import (
    Base,
    Call,
    CallbackAttempt,
    CallbackRefusal,
    CallbackRequest,
    CallEvent,
    CallRouting,
    DemoOutbound,
    Message,
    Recording,
    Relative,
)
from hotline.runtime import Runtime
from hotline.services import audit, callback_queue, opt_outs, outbox, relatives
from routing.callback_states import Event
from tests.helpers import HOTLINE, register_callback


@dataclass(frozen=True)
class Seeded:
    relative_id: int
    open_callback: int
    closed_callback: int
    sids: dict[str, str]


def sid(prefix: str, n: int) -> str:
    """A Twilio-shaped SID, unique per `prefix` and `n`."""
    return f"{prefix}{n:032d}"


def add_contact(session: Session, relative: Relative, n: int, at: datetime) -> Call:
    """The relative's text in and the reply out (SIDs SM 10n, 10n+1), an outbox text Twilio refused quoting the
    number, a call (CA n), its voicemail (RE n), the demo's copy (DM n) and a callback the caps refused that day,
    all as of `at`. The call, flushed."""
    number = relative.phone_number
    for k, (direction, from_, to, body) in enumerate(
        (
            ("inbound", number, HOTLINE, f"Min mor falder tit {n}"),
            ("outbound", HOTLINE, number, f"Vi ringer dig op {n}"),
        )
    ):
        session.add(
            Message(
                message_sid=sid("SM", 10 * n + k),
                direction=direction,
                from_number=from_,
                to_number=to,
                body=body,
                status="received",
                relative_id=relative.id,
                created_at=at,
                updated_at=at,
            )
        )
    refused = outbox.enqueue(
        session,
        capped=False,
        to=number,
        purpose="advisor_reply",
        language="ar",
        now=at,
        body=f"Svar {n}",
        relative_id=relative.id,
    )
    assert refused is not None
    refused.state, refused.failure_code = outbox.FAILED, "21211"
    refused.failure_detail = f"Invalid 'To' Phone Number: {number}"  # Twilio's wording quotes the number
    call = Call(
        call_sid=sid("CA", n),
        direction="inbound",
        from_number=number,
        to_number=HOTLINE,
        status="completed",
        relative_id=relative.id,
        created_at=at,
        updated_at=at,
    )
    session.add(call)
    session.add(
        Recording(
            recording_sid=sid("RE", n),
            call_sid=sid("CA", n),
            recording_url=f"https://api.twilio.com/rec/{n}",
            from_number=number,
            source="ivr",
            received_at=at,
        )
    )
    session.add(
        DemoOutbound(
            kind="sms", sid=sid("DM", n), to_number=number, from_number=HOTLINE, body="x", created_at=at
        )
    )
    session.add(
        CallbackRefusal(
            phone_number=number,
            call_sid=sid("CA", n),
            recording_sid=sid("RE", n),
            reason="keyed_in_limit",
            detail="2 of 2 callbacks today",
            created_at=at,
        )
    )
    session.flush()
    return call


def seed_subject(runtime: Runtime, number: str, n: int, now: datetime, *, opted_out: bool = False) -> Seeded:
    """Everything about relative `number` (n makes its SIDs unique), as of shortly before `now`."""
    at = now - timedelta(days=2)
    sids = {
        "call": sid("CA", n),
        "text_in": sid("SM", 10 * n),
        "text_out": sid("SM", 10 * n + 1),
        "recording": sid("RE", n),
        "attempt_call": sid("CA", 100 + n),
    }
    closed = register_callback(runtime, at - timedelta(days=1), number=number)
    with runtime.sessions.begin() as session:
        callback = session.get(CallbackRequest, closed)
        assert callback is not None
        session.add(
            CallbackAttempt(
                callback_id=closed,
                advisor_id="anna",
                advisor_call_sid=sid("CA", 200 + n),
                relative_call_sid=sids["attempt_call"],
                outcome="reached",
                note=f"Talte om aflastning {n}",
                started_at=at - timedelta(days=1),
            )
        )
        callback_queue.move(session, callback, Event.CANCEL, "test", at - timedelta(days=1))
    open_id = register_callback(runtime, at, number=number)
    with runtime.sessions.begin() as session:
        relative, _ = relatives.find_or_create(session, number)
        relative.language, relative.contact_person_id = "ar", "anna"
        waiting = session.get(CallbackRequest, open_id)
        assert waiting is not None
        callback_queue.add_note(session, waiting, "anna", f"Ring efter kl. 17 {n}", at)
        call = add_contact(session, relative, n, at)
        session.add(CallEvent(call_id=call.id, kind="status", detail="completed", at=at))
        session.add(
            CallRouting(
                call_sid=sids["call"], relative_id=relative.id, reason="question", language="ar", chain="anna"
            )
        )
        if opted_out:
            opt_outs.opt_out(session, number, source="keyword", now=at, message_sid=sid("SM", 10 * n + 2))
        audit.record(
            session, actor="anna", action=audit.Action.VIEWED, relative_id=relative.id, subject="timeline"
        )
        relative_id = relative.id
    return Seeded(relative_id, open_id, closed, sids)


def rows_holding(runtime: Runtime, number: str) -> list[str]:
    """Every table.column in which `number` (its national digits, in any form) is still written."""
    digits = number.removeprefix("+45")
    found = []
    with runtime.sessions() as session:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, String | Text) and session.scalar(
                    select(func.count()).where(column.contains(digits))
                ):
                    found.append(f"{table.name}.{column.name}")
    return found

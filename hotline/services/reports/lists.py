"""The lists behind the dashboard's figures: one page of rows (PAGE_SIZE) or every row streamed for a CSV, newest
first, each row with the relative's id (for the timeline link) and the raw number (the view masks or shows it).

A list holds exactly the rows its figure counts: the callbacks and texts come from the same cohorts
(hotline.services.reports.dashboard.kept_rows and text_rows). Functions take a Session and never commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, null, select
from sqlalchemy.orm import Session

from hotline.db.models import Call, CallbackRequest, CallRouting, Message, Recording, Relative, SmsOptOut
from hotline.services.callback_queue import OPEN_STATES
from hotline.services.reports.dashboard import (
    Kept,
    TextAnswer,
    in_period,
    kept_rows,
    routing_of_calls,
    seconds_between,
    text_rows,
)
from routing.report_periods import Period
from routing.wallclock import COPENHAGEN

PAGE_SIZE = 50


class Drill(StrEnum):
    """The lists behind the figures."""

    CALLS = "calls"
    CALLS_HUMAN = "calls_human"
    CALLS_MISSED = "calls_missed"
    CALLS_LANGUAGE = "calls_language"
    CALLBACKS_KEPT = "callbacks_kept"
    CALLBACKS_OUTSIDE = "callbacks_outside"
    CALLBACKS_NOT_REACHED = "callbacks_not_reached"
    CALLBACKS_OPEN = "callbacks_open"
    OVERDUE = "overdue"
    TEXTS_IN_TIME = "texts_in_time"
    TEXTS_LATE = "texts_late"
    TEXTS_UNANSWERED = "texts_unanswered"
    TEXTS_CALLBACK = "texts_callback"
    FALLBACK = "fallback"
    OPT_OUTS = "opt_outs"


@dataclass(frozen=True)
class Row:
    """One row of a drill-down: when, whose (the relative's id for the timeline link, and the raw number the view
    masks or shows), the language, and what the figure is about (instants stay datetimes, the view formats)."""

    at: datetime
    relative_id: int | None
    number: str | None
    language: str | None
    details: tuple[Any, ...]


# The detail columns of each family of lists (the view words them).
DETAILS = {
    "calls": ("status", "advisor", "to_human"),
    "callbacks": ("case", "state", "window_start", "window_end", "reached_at"),
    "texts": ("promised", "answered_at"),
    "fallback": ("duration",),
    "opt_outs": ("source",),
}


def _family(drill: Drill) -> str:
    """Which rows a list shows: calls, callbacks (the overdue ones too), texts, fallback or opt_outs."""
    if drill is Drill.OVERDUE:
        return "callbacks"
    for family in ("calls", "callbacks", "texts"):
        if drill.value == family or drill.value.startswith(family + "_"):
            return family
    return drill.value


def details_of(drill: Drill) -> tuple[str, ...]:
    return DETAILS[_family(drill)]


def _calls(session: Session, drill: Drill, period: Period, language: str | None) -> Any:
    statement = (
        select(
            Call.created_at,
            Call.relative_id,
            Call.from_number,
            CallRouting.language,
            Call.status,
            CallRouting.connected_advisor_id,
            seconds_between(session, CallRouting.connected_at, Call.created_at),
            Call.id,
        )
        .select_from(Call)
        .outerjoin(CallRouting, routing_of_calls(period))
        .where(Call.direction == "inbound", in_period(Call.created_at, period))
    )
    if drill is Drill.CALLS_HUMAN:
        statement = statement.where(CallRouting.connected_advisor_id.is_not(None))
    elif drill is Drill.CALLS_MISSED:
        statement = statement.where(
            CallRouting.call_sid.is_not(None), CallRouting.connected_advisor_id.is_(None)
        )
    elif drill is Drill.CALLS_LANGUAGE:
        statement = statement.where(CallRouting.language == (language or ""))
    return statement.order_by(Call.created_at.desc(), Call.id.desc())


def _callbacks(drill: Drill, period: Period, now: datetime) -> Any:
    if drill is Drill.OVERDUE:  # what the queue shows red now, whatever the period
        source = (
            select(
                CallbackRequest.id.label("id"),
                CallbackRequest.state.label("state"),
                CallbackRequest.window_start.label("window_start"),
                CallbackRequest.window_end.label("window_end"),
                null().label("reached_at"),
            )
            .where(CallbackRequest.state.in_(OPEN_STATES), CallbackRequest.due_at < now)
            .subquery()
        )
        at = CallbackRequest.due_at
    else:
        cohort = kept_rows(period, now)
        wanted = Kept(drill.value.removeprefix("callbacks_"))
        source = select(cohort).where(cohort.c.kept == wanted.value).subquery()
        at = CallbackRequest.window_end
    return (
        select(
            at,
            CallbackRequest.relative_id,
            CallbackRequest.phone_number,
            CallbackRequest.language,
            CallbackRequest.id,
            source.c.state,
            source.c.window_start,
            source.c.window_end,
            source.c.reached_at,
            CallbackRequest.created_at,
        )
        .join(source, source.c.id == CallbackRequest.id)
        .order_by(at.desc(), CallbackRequest.id.desc())
    )


def _texts(drill: Drill, period: Period, now: datetime) -> Any:
    rows = text_rows(period, now)
    wanted = TextAnswer(drill.value.removeprefix("texts_"))
    return (
        select(
            Message.created_at,
            Message.relative_id,
            Message.from_number,
            Relative.language,
            rows.c.answer_due_at,
            rows.c.reply_at,
            Message.id,
        )
        .join(rows, rows.c.id == Message.id)
        .outerjoin(Relative, Relative.id == Message.relative_id)
        .where(rows.c.answer == wanted.value)
        .order_by(rows.c.answer_due_at.desc(), Message.id.desc())
    )


def _fallback(period: Period) -> Any:
    return (
        select(
            Recording.received_at,
            Relative.id,
            Recording.from_number,
            Relative.language,
            Recording.duration_seconds,
            Recording.id,
        )
        .outerjoin(Relative, Relative.phone_number == Recording.from_number)
        .where(Recording.source == "fallback", in_period(Recording.received_at, period))
        .order_by(Recording.received_at.desc(), Recording.id.desc())
    )


def _opt_outs(period: Period) -> Any:
    return (
        select(
            SmsOptOut.opted_out_at,
            Relative.id,
            SmsOptOut.phone_number,
            Relative.language,
            SmsOptOut.source,
        )
        .outerjoin(Relative, Relative.phone_number == SmsOptOut.phone_number)
        .where(in_period(SmsOptOut.opted_out_at, period))
        .order_by(SmsOptOut.opted_out_at.desc(), SmsOptOut.phone_number)
    )


def _drill_select(session: Session, drill: Drill, period: Period, now: datetime, language: str | None) -> Any:
    """The rows of one list, newest first: at, relative_id, number, language, then the details."""
    family = _family(drill)
    if family == "calls":
        return _calls(session, drill, period, language)
    if family == "callbacks":
        return _callbacks(drill, period, now)
    if family == "texts":
        return _texts(drill, period, now)
    return _fallback(period) if drill is Drill.FALLBACK else _opt_outs(period)


def _row(drill: Drill, values: Any) -> Row:
    at, relative_id, number, language = values[0], values[1], values[2], values[3]
    family = _family(drill)
    details: tuple[Any, ...]
    if family == "calls":
        status, advisor, seconds = values[4], values[5], values[6]
        details = (status, advisor, round(float(seconds), 1) if seconds is not None else None)
    elif family == "callbacks":
        callback_id, state, start, end, reached, created = values[4:10]
        details = (_case_reference(callback_id, created), state, start, end, _aware(reached))
    elif family == "texts":
        details = (values[4], _aware(values[5]))
    else:
        details = (values[4],)
    return Row(at, relative_id, number, language, details)


def _aware(value: Any) -> Any:
    """A time from a subquery's column (SQLite gives the text back when the column lost its type)."""
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _case_reference(callback_id: int, created: datetime) -> str:
    """The case reference staff know (services/staff_texts.reference): PL-<year>-<id>."""
    return f"PL-{created.astimezone(COPENHAGEN):%Y}-{callback_id:04d}"


def _count(session: Session, statement: Any) -> int:
    return int(
        session.execute(select(func.count()).select_from(statement.order_by(None).subquery())).scalar_one()
    )


def drill_count(
    session: Session, drill: Drill, period: Period, now: datetime, *, language: str | None = None
) -> int:
    """How many rows the list has (what its CSV will hold)."""
    return _count(session, _drill_select(session, drill, period, now, language))


def drill_page(
    session: Session,
    drill: Drill,
    period: Period,
    now: datetime,
    *,
    page: int = 1,
    language: str | None = None,
) -> tuple[int, list[Row]]:
    """(how many rows the list has, the rows of page `page`, PAGE_SIZE a page)."""
    statement = _drill_select(session, drill, period, now, language)
    total = _count(session, statement)
    rows = session.execute(statement.limit(PAGE_SIZE).offset(max(0, page - 1) * PAGE_SIZE))
    return total, [_row(drill, values) for values in rows]


def drill_rows(
    session: Session, drill: Drill, period: Period, now: datetime, *, language: str | None = None
) -> Iterator[Row]:
    """Every row of the list, streamed in batches (for the CSV)."""
    statement = _drill_select(session, drill, period, now, language)
    for values in session.execute(statement.execution_options(yield_per=1000)):
        yield _row(drill, values)

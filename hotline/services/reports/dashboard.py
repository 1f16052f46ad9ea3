"""The managers' dashboard: every figure counted by the database for one period (GROUP BY, COUNT, CASE, and the
percentiles with percentile_cont on PostgreSQL or a count and an OFFSET on SQLite), never by loading the rows.

The definitions (docs/reports.md has them in plain words, Danish first):

- calls: inbound calls created in `[start, end)`, bucketed by Copenhagen's hour and weekday (the database counts
  them per UTC hour, each of which is one Copenhagen hour: routing.report_periods.local_hour_of_utc_hour).
- asked for an advisor: those calls with a `call_routing` row (the menu put them through to the chain); answered
  by a human: of those, the ones an advisor pressed 1 on (`connected_advisor_id`). Time to a human: from the call
  starting (`calls.created_at`) to that press (`call_routing.connected_at`), median and 90th percentile.
- callbacks kept in their window (the headline): the callbacks whose window ended in the period and has ended by
  now, not cancelled; kept when the transition to `reached` happened inside `[window_start, window_end]`.
  The others are: reached outside the window, not reached (no attempt left) or still open past the window.
- overdue now: open callbacks past their due time (what the queue shows red), whatever the period.
- texts answered within their promise: inbound texts whose promised answer (`answer_due_at`) fell in the period
  and has passed; in time when an advisor's reply (outbox `advisor_reply`, not refused, cancelled or failed) to
  the same relative was written after the text and by the promise. Texts handed to a callback are counted apart.
- language mix: calls that asked for an advisor, by the language of the menu (`call_routing.language`).
- fallback: voicemails the fallback answer took while the app or its database was down (`recordings.source`).
- opt-outs: numbers that texted STOP in the period and have not texted START since (`sms_opt_outs`).

Speed (benchmarks/reports.py, docs/reports.md "How fast"): the dashboard is five statements (the calls per hour,
the routed calls, the callbacks, the texts, the small counts), each one pass over the period's rows in an
index that holds the columns it reads (migration 0019), no lookup done twice per row.

Functions take a Session and never commit. The lists behind the figures are hotline.services.reports.lists; the
cohorts they share with the figures (`kept_rows`, `text_rows`) are defined here, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Integer,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    select,
    text,
    tuple_,
    type_coerce,
)
from sqlalchemy.orm import Session

from hotline.db.models import (
    Call,
    CallbackRequest,
    CallbackTransition,
    CallRouting,
    Message,
    OutboxText,
    Recording,
    SmsOptOut,
)
from hotline.services.callback_queue import OPEN_STATES
from hotline.services.workload import ADVISOR_REPLY
from routing.callback_states import State
from routing.report_periods import (
    Period,
    interpolate,
    local_hour_of_utc_hour,
    percentile_position,
)

PERCENTILES = (0.5, 0.9)
# An advisor's reply that never went (STOP, a guard, a cap, Twilio refusing it) answers nothing.
DEAD_REPLY_STATES = ("refused", "cancelled", "failed")


class Kept(StrEnum):
    """What became of a callback whose window ended in the period."""

    KEPT = "kept"  # reached inside its window
    OUTSIDE = "outside"  # reached, but before or after its window
    NOT_REACHED = "not_reached"  # every attempt used, nobody reached
    OPEN = "open"  # still open although its window has ended (a retry of a not_reached one too)


class TextAnswer(StrEnum):
    """What became of a text whose promised answer time fell in the period."""

    IN_TIME = "in_time"
    LATE = "late"
    UNANSWERED = "unanswered"
    CALLBACK = "callback"  # handed to a callback (RING, or an advisor): the queue's promise counts instead


@dataclass(frozen=True)
class Figures:
    """One period's figures (counts; seconds for the times; None where there is nothing to measure)."""

    by_hour: tuple[int, ...]  # 24, Copenhagen hours 0-23
    by_weekday: tuple[int, ...]  # 7, Monday first
    calls: int
    routed: int
    human: int
    to_human: dict[float, float | None]  # percentile -> seconds
    to_human_measured: int
    kept: dict[Kept, int]
    overdue: int
    texts: dict[TextAnswer, int]
    languages: tuple[tuple[str, int], ...]  # most calls first
    fallback: int
    opt_outs: int
    cancelled: int = 0  # callbacks called off whose window ended in the period: not in the headline

    @property
    def kept_cohort(self) -> int:
        return sum(self.kept.values())

    @property
    def texts_cohort(self) -> int:
        """The texts the share is taken of: those handed to a callback are not among them."""
        return sum(n for answer, n in self.texts.items() if answer is not TextAnswer.CALLBACK)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def utc_hour(session: Session, column: Any) -> ColumnElement[int]:
    """SQL for the hours since 1970-01-01 UTC of the instants in `column`: a bucket that needs no time zone (the
    Copenhagen hour and weekday of each bucket is routing.report_periods.local_hour_of_utc_hour)."""
    if _dialect(session) == "postgresql":
        # date_part gives a double (extract() a numeric, whose arithmetic costs several times more per row); whole
        # seconds first, then an integer division, so an instant a microsecond before the hour stays in its hour.
        return cast(cast(func.floor(func.date_part("epoch", column)), BigInteger) // 3600, Integer)
    return cast(func.strftime("%s", column), Integer) // 3600


def in_period(column: Any, period: Period) -> ColumnElement[bool]:
    return and_(column >= period.start, column < period.end)


# A call's routing row is written when the menu puts it through, within the call's life (at most hours): looking
# for routing rows begun up to a day after the period lets the database use call_routing's index on started_at
# instead of reading every routing row ever made to join a month's calls.
ROUTED_WITHIN = timedelta(days=1)


def _routed_near(period: Period) -> ColumnElement[bool]:
    return and_(CallRouting.started_at >= period.start, CallRouting.started_at < period.end + ROUTED_WITHIN)


def routing_of_calls(period: Period) -> ColumnElement[bool]:
    """The join of a call to its routing row, with the redundant bound that lets the index be used."""
    return and_(CallRouting.call_sid == Call.call_sid, _routed_near(period))


def seconds_between(session: Session, later: Any, earlier: Any) -> ColumnElement[float]:
    if _dialect(session) == "postgresql":
        return type_coerce(
            func.date_part("epoch", later - earlier), Float
        )  # a double, cheaper than extract()
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


@dataclass(frozen=True)
class CallFigures:
    """The period's inbound calls, counted in one pass over them joined once with their routing."""

    by_hour: tuple[int, ...]
    by_weekday: tuple[int, ...]
    calls: int
    routed: int
    human: int
    languages: tuple[tuple[str, int], ...]
    to_human: dict[float, float | None]
    to_human_measured: int


def call_figures(session: Session, period: Period) -> CallFigures:
    """Calls by Copenhagen hour and weekday, how many asked for an advisor and how many an advisor answered, the
    language mix and the time to a human, in two passes, each read from an index alone: the period's inbound
    calls counted per UTC hour (each UTC hour is one Copenhagen hour and weekday:
    routing.report_periods.local_hour_of_utc_hour), then those of them with a routing row, joined once, counted per
    language and in all, with the percentiles of the seconds to a human in the same pass (PostgreSQL: grouping
    sets; SQLite, without them or percentile_cont: per language, then a count and an OFFSET)."""
    calls_in_period = and_(Call.direction == "inbound", in_period(Call.created_at, period))
    hours = select(utc_hour(session, Call.created_at).label("hour")).where(calls_in_period).subquery()
    by_hour, by_weekday = [0] * 24, [0] * 7
    calls = 0
    for hour, n in session.execute(select(hours.c.hour, func.count()).group_by(hours.c.hour)):
        local_hour, weekday = local_hour_of_utc_hour(int(hour))
        by_hour[local_hour] += int(n)
        by_weekday[weekday - 1] += int(n)
        calls += int(n)

    seconds = case(
        (
            and_(CallRouting.connected_advisor_id.is_not(None), CallRouting.connected_at.is_not(None)),
            seconds_between(session, CallRouting.connected_at, Call.created_at),
        ),
        else_=null(),
    )
    routed_calls = (
        select(
            CallRouting.language.label("language"),
            CallRouting.connected_advisor_id.label("human"),
            seconds.label("seconds"),
        )
        .select_from(Call)
        .join(CallRouting, routing_of_calls(period))
        .where(calls_in_period)
        .subquery()
    )
    counts = [func.count(), func.count(routed_calls.c.human)]
    postgres = _dialect(session) == "postgresql"
    statement: Any
    if postgres:
        statement = select(
            routed_calls.c.language,
            func.grouping(routed_calls.c.language),
            *counts,
            func.count(routed_calls.c.seconds),
            *[func.percentile_cont(p).within_group(routed_calls.c.seconds) for p in PERCENTILES],
        ).group_by(func.grouping_sets(tuple_(routed_calls.c.language), tuple_()))
    else:
        statement = select(routed_calls.c.language, literal(0), *counts).group_by(routed_calls.c.language)
    routed = human = 0
    languages: dict[str, int] = {}
    to_human: dict[float, float | None] = dict.fromkeys(PERCENTILES)
    measured = 0
    for row in session.execute(statement):
        language, every_call, n, n_human = row[0], row[1], int(row[2]), int(row[3])
        if every_call:  # PostgreSQL's set of all the routed calls: the percentiles
            measured = int(row[4])
            to_human = {
                p: (round(float(v), 1) if v is not None else None)
                for p, v in zip(PERCENTILES, row[5:], strict=True)
            }
            continue
        languages[str(language)] = n
        routed += n
        human += n_human
    if not postgres:
        to_human, measured = _sqlite_percentiles(session, routed_calls)
    return CallFigures(
        by_hour=tuple(by_hour),
        by_weekday=tuple(by_weekday),
        calls=calls,
        routed=routed,
        human=human,
        languages=tuple(sorted(languages.items(), key=lambda item: (-item[1], item[0]))),
        to_human=to_human,
        to_human_measured=measured,
    )


def _sqlite_percentiles(session: Session, joined: Any) -> tuple[dict[float, float | None], int]:
    """The median and 90th percentile of the seconds to a human, as percentile_cont gives them: how many there
    are, then the one or two values around each percentile's position (ORDER BY … LIMIT 2 OFFSET k)."""
    measured = select(joined.c.seconds).where(joined.c.seconds.is_not(None)).subquery()
    count = int(session.execute(select(func.count()).select_from(measured)).scalar_one())
    result: dict[float, float | None] = {}
    for p in PERCENTILES:
        position = percentile_position(count, p)
        if position is None:
            result[p] = None
            continue
        values = [
            float(v)
            for v in session.scalars(
                select(measured.c.seconds).order_by(measured.c.seconds).limit(2).offset(position.low)
            )
        ]
        result[p] = round(interpolate(position, values[0], values[1] if len(values) > 1 else None), 1)
    return result, count


def _reached_at() -> ColumnElement[Any]:
    return (
        select(func.min(CallbackTransition.at))
        .where(
            CallbackTransition.callback_id == CallbackRequest.id,
            CallbackTransition.to_state == State.REACHED.value,
        )
        .correlate(CallbackRequest)
        .scalar_subquery()
    )


CANCELLED = "cancelled"


def kept_rows(period: Period, now: datetime, *, with_cancelled: bool = False) -> Any:
    """The headline's callbacks with their category (`kept`) and when they were reached (`reached_at`); with
    `with_cancelled` the cancelled ones too, in a category of their own (they are shown apart, not counted)."""
    inner = (
        select(
            CallbackRequest.id.label("id"),
            CallbackRequest.state.label("state"),
            CallbackRequest.window_start.label("window_start"),
            CallbackRequest.window_end.label("window_end"),
            CallbackRequest.next_attempt_at.label("next_attempt_at"),
            _reached_at().label("reached_at"),
        )
        .where(in_period(CallbackRequest.window_end, period), CallbackRequest.window_end <= now)
        .where(*([] if with_cancelled else [CallbackRequest.state != State.CANCELLED.value]))
        .cte("callbacks_in_period")
        # Materialized: the per-row lookup is done once, not once for each CASE branch that reads it.
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    category = case(
        (inner.c.state == State.CANCELLED.value, literal(CANCELLED, literal_execute=True)),
        (
            and_(
                inner.c.state == State.REACHED.value,
                inner.c.reached_at >= inner.c.window_start,
                inner.c.reached_at <= inner.c.window_end,
            ),
            literal(Kept.KEPT.value, literal_execute=True),
        ),
        (inner.c.state == State.REACHED.value, literal(Kept.OUTSIDE.value, literal_execute=True)),
        # not_reached is final when the retry policy left no further attempt (no next_attempt_at).
        (
            and_(inner.c.state == State.NOT_REACHED.value, inner.c.next_attempt_at.is_(None)),
            literal(Kept.NOT_REACHED.value, literal_execute=True),
        ),
        (inner.c.state.in_(OPEN_STATES), literal(Kept.OPEN.value, literal_execute=True)),
        else_=literal(Kept.NOT_REACHED.value, literal_execute=True),
    )
    return select(inner, category.label("kept")).subquery()


def kept_in_window(session: Session, period: Period, now: datetime) -> tuple[dict[Kept, int], int]:
    """The headline: callbacks whose window ended in the period (and by `now`), by what became of them; and how
    many such callbacks were cancelled (not counted). One pass over the period's callbacks."""
    rows = kept_rows(period, now, with_cancelled=True)
    counts = {k: 0 for k in Kept}
    cancelled = 0
    for category, n in session.execute(select(rows.c.kept, func.count()).group_by(rows.c.kept)):
        if category == CANCELLED:
            cancelled = int(n)
        else:
            counts[Kept(category)] = int(n)
    return counts, cancelled


def text_rows(period: Period, now: datetime) -> Any:
    reply_at = (
        select(func.min(OutboxText.created_at))
        .where(
            OutboxText.relative_id == Message.relative_id,
            OutboxText.purpose == ADVISOR_REPLY,
            OutboxText.created_at >= Message.created_at,
            OutboxText.state.not_in(DEAD_REPLY_STATES),
        )
        .correlate(Message)
        .scalar_subquery()
    )
    inner = (
        select(
            Message.id.label("id"),
            Message.relative_id.label("relative_id"),
            Message.created_at.label("created_at"),
            Message.answer_due_at.label("answer_due_at"),
            Message.callback_id.label("callback_id"),
            reply_at.label("reply_at"),
        )
        .where(Message.direction == "inbound", Message.answer_due_at.is_not(None))
        .where(in_period(Message.answer_due_at, period), Message.answer_due_at <= now)
        .cte("texts_in_period")
        # Materialized: the per-row lookup is done once, not once for each CASE branch that reads it.
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    category = case(
        (inner.c.reply_at <= inner.c.answer_due_at, literal(TextAnswer.IN_TIME.value, literal_execute=True)),
        (inner.c.callback_id.is_not(None), literal(TextAnswer.CALLBACK.value, literal_execute=True)),
        (inner.c.reply_at.is_not(None), literal(TextAnswer.LATE.value, literal_execute=True)),
        else_=literal(TextAnswer.UNANSWERED.value, literal_execute=True),
    )
    return select(inner, category.label("answer")).subquery()


def texts_answered(session: Session, period: Period, now: datetime) -> dict[TextAnswer, int]:
    rows = text_rows(period, now)
    counts = {a: 0 for a in TextAnswer}
    for answer, n in session.execute(select(rows.c.answer, func.count()).group_by(rows.c.answer)):
        counts[TextAnswer(answer)] = int(n)
    return counts


def _small_counts(session: Session, period: Period, now: datetime) -> tuple[int, int, int]:
    """(callbacks overdue now, fallback voicemails, opt-outs): three small counts in one statement."""
    row = session.execute(
        select(
            select(func.count())
            .select_from(CallbackRequest)
            .where(CallbackRequest.state.in_(OPEN_STATES), CallbackRequest.due_at < now)
            .scalar_subquery(),
            select(func.count())
            .select_from(Recording)
            .where(Recording.source == "fallback", in_period(Recording.received_at, period))
            .scalar_subquery(),
            select(func.count())
            .select_from(SmsOptOut)
            .where(in_period(SmsOptOut.opted_out_at, period))
            .scalar_subquery(),
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def figures(session: Session, period: Period, now: datetime) -> Figures:
    """Every figure of the dashboard for `period`: five statements (the calls per hour, the routed calls with their
    languages and percentiles, the callbacks, the texts, the small counts), each one pass over the period's rows in an index."""
    if _dialect(session) == "postgresql":
        # For this transaction only: no JIT (compiling costs more than it saves on statements of a second or
        # less), and memory enough to sort and hash a year's calls without spilling to disk.
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL work_mem = '32MB'"))
    calls = call_figures(session, period)
    kept, cancelled = kept_in_window(session, period, now)
    overdue, fallback, opted_out = _small_counts(session, period, now)
    return Figures(
        by_hour=calls.by_hour,
        by_weekday=calls.by_weekday,
        calls=calls.calls,
        routed=calls.routed,
        human=calls.human,
        to_human=calls.to_human,
        to_human_measured=calls.to_human_measured,
        kept=kept,
        overdue=overdue,
        texts=texts_answered(session, period, now),
        languages=calls.languages,
        fallback=fallback,
        opt_outs=opted_out,
        cancelled=cancelled,
    )

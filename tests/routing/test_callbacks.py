"""Callbacks: the windows a relative chooses, due times, the queue order, the state machine and retries.

All instants are checked in UTC against hand-computed values. Copenhagen is UTC+1 in winter and UTC+2 in
summer; the clocks change on 2026-03-29, 2026-10-25, 2027-03-28 and 2027-10-31.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routing.callbacks import (
    FINAL_STATES,
    RETRY_ACTOR,
    Event,
    IllegalTransition,
    Priority,
    RetryPolicy,
    State,
    Transition,
    WindowSlot,
    WindowSpec,
    after_no_answer,
    due_time,
    queue_key,
    record,
    resolve_window,
    transition,
)
from routing.wallclock import COPENHAGEN

CPH = COPENHAGEN


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=CPH)


ASAP = WindowSpec("asap", within_minutes=60)
EVENING = WindowSpec("this_evening", time(17), time(21))
MORNING = WindowSpec("tomorrow_morning", time(7), time(9), day="tomorrow")
DAYTIME = WindowSpec("tomorrow_daytime", time(9), time(15), day="tomorrow")
NIGHT = WindowSpec("night", time(22), time(7))
SMALL_HOURS = WindowSpec("small_hours", time(1), time(4))
IN_SPRING_GAP = WindowSpec("in_gap", time(2, 15), time(2, 45))
INTO_SPRING_GAP = WindowSpec("into_gap", time(1, 30), time(2, 30))
AMBIGUOUS_START = WindowSpec("ambiguous_start", time(2, 30), time(5))

# (spec, asked at, expected start UTC, expected end UTC)
WINDOW_CASES = [
    # An ordinary Tuesday in summer time (UTC+2).
    pytest.param(EVENING, local(2026, 5, 12, 12), utc(2026, 5, 12, 15), utc(2026, 5, 12, 19), id="evening-at-noon"),
    pytest.param(EVENING, local(2026, 5, 12, 18, 30), utc(2026, 5, 12, 16, 30), utc(2026, 5, 12, 19), id="evening-inside-starts-now"),
    pytest.param(EVENING, local(2026, 5, 12, 20, 30), utc(2026, 5, 12, 18, 30), utc(2026, 5, 12, 19), id="evening-30-min-left-still-today"),
    pytest.param(EVENING, local(2026, 5, 12, 20, 31), utc(2026, 5, 13, 15), utc(2026, 5, 13, 19), id="evening-29-min-left-next-evening"),
    pytest.param(EVENING, local(2026, 5, 12, 21), utc(2026, 5, 13, 15), utc(2026, 5, 13, 19), id="evening-at-close-next-evening"),
    pytest.param(EVENING, local(2026, 5, 12, 22, 30), utc(2026, 5, 13, 15), utc(2026, 5, 13, 19), id="evening-at-2230-next-evening"),
    pytest.param(EVENING, local(2026, 5, 13, 0, 0), utc(2026, 5, 13, 15), utc(2026, 5, 13, 19), id="evening-at-midnight-same-date"),
    pytest.param(EVENING, local(2026, 5, 13, 0, 30), utc(2026, 5, 13, 15), utc(2026, 5, 13, 19), id="evening-at-0030-same-date"),
    pytest.param(MORNING, local(2026, 5, 12, 23, 59), utc(2026, 5, 13, 5), utc(2026, 5, 13, 7), id="morning-at-2359-next-date"),
    pytest.param(MORNING, local(2026, 5, 13, 0, 0), utc(2026, 5, 13, 5), utc(2026, 5, 13, 7), id="morning-at-midnight-coming-morning"),
    pytest.param(MORNING, local(2026, 5, 13, 0, 30), utc(2026, 5, 13, 5), utc(2026, 5, 13, 7), id="morning-at-0030-coming-morning"),
    pytest.param(MORNING, local(2026, 5, 13, 4, 59), utc(2026, 5, 13, 5), utc(2026, 5, 13, 7), id="morning-at-0459-coming-morning"),
    pytest.param(MORNING, local(2026, 5, 13, 5, 0), utc(2026, 5, 14, 5), utc(2026, 5, 14, 7), id="morning-at-0500-day-after"),
    pytest.param(MORNING, local(2026, 5, 13, 6, 30), utc(2026, 5, 14, 5), utc(2026, 5, 14, 7), id="morning-at-0630-day-after"),
    pytest.param(DAYTIME, local(2026, 5, 12, 12), utc(2026, 5, 13, 7), utc(2026, 5, 13, 13), id="daytime-from-noon"),
    pytest.param(NIGHT, local(2026, 5, 12, 23), utc(2026, 5, 12, 21), utc(2026, 5, 13, 5), id="night-inside-before-midnight"),
    pytest.param(NIGHT, local(2026, 5, 13, 3), utc(2026, 5, 13, 1), utc(2026, 5, 13, 5), id="night-inside-after-midnight"),
    pytest.param(NIGHT, local(2026, 5, 13, 6, 45), utc(2026, 5, 13, 20), utc(2026, 5, 14, 5), id="night-15-min-left-next-night"),
    pytest.param(MORNING, local(2026, 12, 31, 23, 30), utc(2027, 1, 1, 6), utc(2027, 1, 1, 8), id="morning-across-new-year"),
    # Spring 2026: 02:00 CET becomes 03:00 CEST on Sunday 29 March.
    pytest.param(EVENING, local(2026, 3, 28, 22, 30), utc(2026, 3, 29, 15), utc(2026, 3, 29, 19), id="2026-spring-evening-asked-saturday-night"),
    pytest.param(EVENING, local(2026, 3, 29, 12), utc(2026, 3, 29, 15), utc(2026, 3, 29, 19), id="2026-spring-evening-asked-sunday"),
    pytest.param(MORNING, local(2026, 3, 29, 0, 30), utc(2026, 3, 29, 5), utc(2026, 3, 29, 7), id="2026-spring-morning-asked-0030-winter-time"),
    pytest.param(MORNING, local(2026, 3, 28, 20), utc(2026, 3, 29, 5), utc(2026, 3, 29, 7), id="2026-spring-morning-asked-saturday"),
    pytest.param(NIGHT, local(2026, 3, 28, 21), utc(2026, 3, 28, 21), utc(2026, 3, 29, 5), id="2026-spring-night-8h"),
    pytest.param(SMALL_HOURS, local(2026, 3, 28, 12), utc(2026, 3, 29, 0), utc(2026, 3, 29, 2), id="2026-spring-small-hours-2h"),
    pytest.param(IN_SPRING_GAP, local(2026, 3, 28, 12), utc(2026, 3, 30, 0, 15), utc(2026, 3, 30, 0, 45), id="2026-spring-window-inside-skipped-hour-moves-a-day"),
    pytest.param(INTO_SPRING_GAP, local(2026, 3, 28, 12), utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1), id="2026-spring-skipped-end-means-0300"),
    pytest.param(ASAP, utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 30), id="2026-spring-asap-across-change"),
    # Autumn 2026: 03:00 CEST becomes 02:00 CET on Sunday 25 October.
    pytest.param(EVENING, local(2026, 10, 24, 22, 30), utc(2026, 10, 25, 16), utc(2026, 10, 25, 20), id="2026-autumn-evening-asked-saturday-night"),
    pytest.param(MORNING, local(2026, 10, 25, 0, 30), utc(2026, 10, 25, 6), utc(2026, 10, 25, 8), id="2026-autumn-morning-asked-0030-summer-time"),
    pytest.param(MORNING, utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 6), utc(2026, 10, 25, 8), id="2026-autumn-morning-asked-first-0230"),
    pytest.param(MORNING, utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 6), utc(2026, 10, 25, 8), id="2026-autumn-morning-asked-second-0230"),
    pytest.param(NIGHT, local(2026, 10, 24, 21), utc(2026, 10, 24, 20), utc(2026, 10, 25, 6), id="2026-autumn-night-10h"),
    pytest.param(SMALL_HOURS, local(2026, 10, 24, 12), utc(2026, 10, 24, 23), utc(2026, 10, 25, 3), id="2026-autumn-small-hours-4h"),
    pytest.param(AMBIGUOUS_START, local(2026, 10, 24, 12), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 4), id="2026-autumn-repeated-time-is-the-first"),
    # Spring 2027: Sunday 28 March.
    pytest.param(EVENING, local(2027, 3, 27, 22, 30), utc(2027, 3, 28, 15), utc(2027, 3, 28, 19), id="2027-spring-evening"),
    pytest.param(MORNING, local(2027, 3, 28, 0, 30), utc(2027, 3, 28, 5), utc(2027, 3, 28, 7), id="2027-spring-morning-asked-0030"),
    pytest.param(NIGHT, local(2027, 3, 27, 21), utc(2027, 3, 27, 21), utc(2027, 3, 28, 5), id="2027-spring-night-8h"),
    pytest.param(SMALL_HOURS, local(2027, 3, 27, 12), utc(2027, 3, 28, 0), utc(2027, 3, 28, 2), id="2027-spring-small-hours-2h"),
    # Autumn 2027: Sunday 31 October.
    pytest.param(EVENING, local(2027, 10, 30, 22, 30), utc(2027, 10, 31, 16), utc(2027, 10, 31, 20), id="2027-autumn-evening"),
    pytest.param(MORNING, local(2027, 10, 31, 0, 30), utc(2027, 10, 31, 6), utc(2027, 10, 31, 8), id="2027-autumn-morning-asked-0030"),
    pytest.param(NIGHT, local(2027, 10, 30, 21), utc(2027, 10, 30, 20), utc(2027, 10, 31, 6), id="2027-autumn-night-10h"),
    pytest.param(SMALL_HOURS, local(2027, 10, 30, 12), utc(2027, 10, 30, 23), utc(2027, 10, 31, 3), id="2027-autumn-small-hours-4h"),
]  # fmt: skip


@pytest.mark.parametrize(("spec", "asked", "start", "end"), WINDOW_CASES)
def test_resolve_window(spec: WindowSpec, asked: datetime, start: datetime, end: datetime) -> None:
    slot = resolve_window(spec, asked)
    assert (slot.start_utc, slot.end_utc) == (start, end)
    assert slot.key == spec.key
    assert slot.start_utc.tzinfo is UTC


@pytest.mark.parametrize(
    ("sunday", "spec", "hours"),
    [
        pytest.param(local(2026, 3, 28, 12), EVENING, 4, id="2026-03-29-evening"),
        pytest.param(local(2026, 10, 24, 12), EVENING, 4, id="2026-10-25-evening"),
        pytest.param(local(2027, 3, 27, 12), EVENING, 4, id="2027-03-28-evening"),
        pytest.param(local(2027, 10, 30, 12), EVENING, 4, id="2027-10-31-evening"),
        pytest.param(local(2026, 3, 28, 12), MORNING, 2, id="2026-03-29-morning"),
        pytest.param(local(2026, 10, 24, 12), MORNING, 2, id="2026-10-25-morning"),
        pytest.param(local(2026, 3, 28, 23), SMALL_HOURS, 2, id="2026-03-29-containing-skipped-hour"),
        pytest.param(local(2026, 10, 24, 23), SMALL_HOURS, 4, id="2026-10-25-containing-repeated-hour"),
        pytest.param(local(2027, 3, 27, 23), SMALL_HOURS, 2, id="2027-03-28-containing-skipped-hour"),
        pytest.param(local(2027, 10, 30, 23), SMALL_HOURS, 4, id="2027-10-31-containing-repeated-hour"),
    ],
)
def test_window_has_its_real_length_on_dst_sundays(sunday: datetime, spec: WindowSpec, hours: int) -> None:
    slot = resolve_window(spec, sunday)
    assert slot.length == timedelta(hours=hours)


def test_asap_is_now_until_within_minutes() -> None:
    now = utc(2026, 5, 12, 10, 7)
    slot = resolve_window(ASAP, now)
    assert slot == WindowSlot(now, now + timedelta(minutes=60), "asap", asap=True)


def test_non_utc_aware_now_is_accepted_and_slot_is_utc() -> None:
    slot = resolve_window(EVENING, local(2026, 5, 12, 12))
    assert slot.start_utc.utcoffset() == timedelta(0)


@given(
    now=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC))
)
def test_evening_slot_is_always_a_real_evening_ahead(now: datetime) -> None:
    slot = resolve_window(EVENING, now)
    assert slot.start_utc >= now
    assert slot.length >= timedelta(minutes=30)
    assert slot.end_utc.astimezone(CPH).time() == time(21)
    assert slot.start_utc == now or slot.start_utc.astimezone(CPH).time() == time(17)
    assert slot.end_utc - now <= timedelta(hours=24 + 21)


@given(
    now=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC))
)
def test_tomorrow_morning_is_the_next_morning_after_the_relatives_night(now: datetime) -> None:
    slot = resolve_window(MORNING, now)
    asked = now.astimezone(CPH)
    expected_date = asked.date() + timedelta(days=0 if asked.time() < time(5) else 1)
    assert slot.start_utc.astimezone(CPH) == datetime.combine(expected_date, time(7), tzinfo=CPH)
    assert slot.length == timedelta(hours=2)


def test_window_shorter_than_min_remaining_is_refused_with_its_name() -> None:
    short = WindowSpec("quick", time(12), time(12, 20))
    with pytest.raises(ValueError, match=r"'quick' \(12:00-12:20\) is shorter than 30 minutes"):
        resolve_window(short, utc(2026, 5, 12, 6))


# --- due times and queue order ----------------------------------------------------------------------------

RESPONSE = {"acute": 15, "question": 240}
NOW = utc(2026, 5, 12, 16)
EVENING_SLOT = WindowSlot(utc(2026, 5, 12, 16), utc(2026, 5, 12, 19), "this_evening")


@pytest.mark.parametrize(
    ("priority", "slot", "due"),
    [
        pytest.param("acute", WindowSlot(NOW, NOW + timedelta(hours=1), "asap", asap=True), NOW + timedelta(minutes=15), id="asap-acute"),
        pytest.param("question", WindowSlot(NOW, NOW + timedelta(hours=1), "asap", asap=True), NOW + timedelta(hours=4), id="asap-question"),
        pytest.param(Priority.QUESTION, EVENING_SLOT, utc(2026, 5, 12, 19), id="window-question-is-window-end"),
        pytest.param("acute", EVENING_SLOT, utc(2026, 5, 12, 19), id="window-acute-is-window-end"),
        pytest.param("question", WindowSlot(NOW - timedelta(hours=3), NOW + timedelta(minutes=5), "k"), NOW + timedelta(minutes=15), id="window-closing-soon-gets-min-lead"),
        pytest.param("question", WindowSlot(NOW - timedelta(hours=3), NOW - timedelta(hours=1), "k"), NOW + timedelta(minutes=15), id="stale-window-gets-min-lead"),
    ],
)  # fmt: skip
def test_due_time(priority: str, slot: WindowSlot, due: datetime) -> None:
    assert due_time(priority, slot, NOW, RESPONSE) == due


def test_asap_due_time_is_real_minutes_across_autumn_change() -> None:
    asked = utc(2026, 10, 25, 0, 50)  # 02:50 summer time; an hour later the clocks show 02:50 again
    slot = resolve_window(ASAP, asked)
    due = due_time("question", slot, asked, RESPONSE)
    assert due == utc(2026, 10, 25, 4, 50)
    assert due.astimezone(CPH).hour == 5  # 05:50 winter time, not 06:50


@pytest.mark.parametrize(
    ("priority", "response", "message"),
    [
        pytest.param("urgent", RESPONSE, "unknown callback priority 'urgent'", id="unknown-priority"),
        pytest.param("acute", {"question": 240}, "no entry for priority 'acute'", id="missing-config"),
        pytest.param("acute", {"acute": 0, "question": 240}, "positive whole number", id="zero-minutes"),
    ],
)
def test_due_time_errors(priority: str, response: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        due_time(priority, EVENING_SLOT, NOW, response)


def test_queue_order_acute_first_then_due_then_created() -> None:
    callbacks = [
        ("question-due-first", "question", utc(2026, 5, 12, 17), utc(2026, 5, 12, 9)),
        ("acute-due-late", "acute", utc(2026, 5, 12, 20), utc(2026, 5, 12, 11)),
        ("acute-due-early", "acute", utc(2026, 5, 12, 18), utc(2026, 5, 12, 12)),
        ("question-same-due-created-late", "question", local(2026, 5, 12, 21), utc(2026, 5, 12, 10, 30)),
        ("question-same-due-created-early", "question", utc(2026, 5, 12, 19), utc(2026, 5, 12, 10)),
    ]
    ordered = sorted(callbacks, key=lambda c: queue_key(c[1], c[2], c[3]))
    assert [c[0] for c in ordered] == [
        "acute-due-early",
        "acute-due-late",
        "question-due-first",
        "question-same-due-created-early",
        "question-same-due-created-late",
    ]


# --- state machine ----------------------------------------------------------------------------------------

LEGAL = {
    (State.REQUESTED, Event.SCHEDULE): State.SCHEDULED,
    (State.REQUESTED, Event.CANCEL): State.CANCELLED,
    (State.SCHEDULED, Event.RESCHEDULE): State.SCHEDULED,
    (State.SCHEDULED, Event.START): State.IN_PROGRESS,
    (State.SCHEDULED, Event.CANCEL): State.CANCELLED,
    (State.IN_PROGRESS, Event.ANSWERED): State.REACHED,
    (State.IN_PROGRESS, Event.NO_ANSWER): State.NOT_REACHED,
    (State.IN_PROGRESS, Event.RELEASE): State.SCHEDULED,
    (State.NOT_REACHED, Event.RETRY): State.SCHEDULED,
    (State.NOT_REACHED, Event.RESCHEDULE): State.SCHEDULED,
    (State.NOT_REACHED, Event.CANCEL): State.CANCELLED,
}
ILLEGAL = [pair for pair in itertools.product(State, Event) if pair not in LEGAL]


@pytest.mark.parametrize(("state", "event", "after"), [(s, e, a) for (s, e), a in LEGAL.items()])
def test_legal_transitions(state: State, event: Event, after: State) -> None:
    assert transition(state, event) is after
    assert transition(state.value, event.value) is after


@pytest.mark.parametrize(("state", "event"), ILLEGAL)
def test_illegal_transitions(state: State, event: Event) -> None:
    with pytest.raises(IllegalTransition, match=f"cannot {event.value} a callback that is {state.value}"):
        transition(state, event)


def test_final_states_have_no_way_out() -> None:
    assert {State.REACHED, State.CANCELLED} == FINAL_STATES
    with pytest.raises(IllegalTransition, match="nothing: it is final"):
        transition(State.REACHED, Event.CANCEL)


def test_illegal_transition_says_what_is_possible() -> None:
    with pytest.raises(IllegalTransition, match="from scheduled it can: cancel, reschedule, start"):
        transition(State.SCHEDULED, Event.ANSWERED)


@pytest.mark.parametrize(("state", "event"), [("waiting", "schedule"), ("requested", "dial")])
def test_unknown_names_are_value_errors(state: str, event: str) -> None:
    with pytest.raises(ValueError, match="is not a valid"):
        transition(state, event)


def test_record_builds_the_row_to_store() -> None:
    step = record("scheduled", "start", actor="advisor:17", at=local(2026, 5, 12, 18))
    assert step == Transition(
        State.SCHEDULED, State.IN_PROGRESS, Event.START, "advisor:17", utc(2026, 5, 12, 16)
    )
    assert step.at.tzinfo is UTC


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        pytest.param({"to_state": State.REACHED}, IllegalTransition, "into reached", id="wrong-destination"),
        pytest.param({"actor": ""}, ValueError, "needs an actor", id="no-actor"),
        pytest.param({"at": datetime(2026, 5, 12, 18)}, ValueError, "naive", id="naive-time"),
    ],
)
def test_impossible_history_rows_are_refused(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    fields: dict[str, object] = {
        "from_state": State.SCHEDULED,
        "to_state": State.IN_PROGRESS,
        "event": Event.START,
        "actor": "advisor:17",
        "at": NOW,
    }
    with pytest.raises(error, match=message):
        Transition(**(fields | kwargs))  # type: ignore[arg-type]


def test_a_callbacks_whole_life_is_a_connected_history() -> None:
    slot = EVENING_SLOT
    history = [
        record(State.REQUESTED, Event.SCHEDULE, actor="relative", at=utc(2026, 5, 12, 15, 50)),
        record(State.SCHEDULED, Event.START, actor="advisor:17", at=utc(2026, 5, 12, 16, 5)),
    ]
    outcome = after_no_answer(1, utc(2026, 5, 12, 16, 6), slot, RetryPolicy(), actor="advisor:17")
    history += outcome.transitions
    assert outcome.next_attempt_at is not None
    history.append(record(outcome.state, Event.START, actor="advisor:21", at=outcome.next_attempt_at))
    history.append(record(State.IN_PROGRESS, Event.ANSWERED, actor="advisor:21", at=utc(2026, 5, 12, 16, 40)))
    assert [h.to_state for h in history] == [
        State.SCHEDULED,
        State.IN_PROGRESS,
        State.NOT_REACHED,
        State.SCHEDULED,
        State.IN_PROGRESS,
        State.REACHED,
    ]
    for before, after in itertools.pairwise(history):
        assert after.from_state is before.to_state
        assert after.at >= before.at


# --- retries ----------------------------------------------------------------------------------------------

ASAP_SLOT = WindowSlot(utc(2026, 5, 12, 10), utc(2026, 5, 12, 11), "asap", asap=True)
SPRING_NIGHT = WindowSlot(utc(2026, 3, 28, 21), utc(2026, 3, 29, 5), "night")


@pytest.mark.parametrize(
    ("policy", "attempts", "last", "slot", "expected"),
    [
        pytest.param(RetryPolicy(), 1, utc(2026, 5, 12, 16, 10), EVENING_SLOT, utc(2026, 5, 12, 16, 40), id="first-retry-30-min-later"),
        pytest.param(RetryPolicy(), 2, utc(2026, 5, 12, 16, 40), EVENING_SLOT, utc(2026, 5, 12, 17, 10), id="second-retry"),
        pytest.param(RetryPolicy(), 3, utc(2026, 5, 12, 17, 10), EVENING_SLOT, None, id="three-attempts-used"),
        pytest.param(RetryPolicy(max_attempts=5), 3, utc(2026, 5, 12, 17, 10), EVENING_SLOT, utc(2026, 5, 12, 17, 40), id="five-attempts-configured"),
        pytest.param(RetryPolicy(max_attempts=1), 1, utc(2026, 5, 12, 16, 10), EVENING_SLOT, None, id="single-attempt-policy"),
        pytest.param(RetryPolicy(), 1, utc(2026, 5, 12, 18, 29), EVENING_SLOT, utc(2026, 5, 12, 18, 59), id="retry-just-inside-window"),
        pytest.param(RetryPolicy(), 1, utc(2026, 5, 12, 18, 30), EVENING_SLOT, None, id="retry-at-window-close-refused"),
        pytest.param(RetryPolicy(), 1, utc(2026, 5, 12, 18, 45), EVENING_SLOT, None, id="retry-after-window-refused"),
        pytest.param(RetryPolicy(), 1, utc(2026, 5, 12, 14), EVENING_SLOT, utc(2026, 5, 12, 16), id="never-before-window-opens"),
        pytest.param(RetryPolicy(minutes_between=0), 1, utc(2026, 5, 12, 16, 10), EVENING_SLOT, utc(2026, 5, 12, 16, 10), id="no-pause"),
        pytest.param(RetryPolicy(), 1, utc(2026, 5, 12, 10, 50), ASAP_SLOT, utc(2026, 5, 12, 11, 20), id="asap-retries-past-first-target"),
        pytest.param(RetryPolicy(), 3, utc(2026, 5, 12, 10, 50), ASAP_SLOT, None, id="asap-attempts-used"),
        pytest.param(RetryPolicy(), 1, utc(2026, 3, 29, 0, 45), SPRING_NIGHT, utc(2026, 3, 29, 1, 15), id="real-30-min-across-spring-change"),
    ],
)  # fmt: skip
def test_next_attempt_at(
    policy: RetryPolicy, attempts: int, last: datetime, slot: WindowSlot, expected: datetime | None
) -> None:
    assert policy.next_attempt_at(attempts, last, slot) == expected


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(lambda: RetryPolicy(max_attempts=0), "max_attempts must be at least 1", id="zero-attempts"),
        pytest.param(lambda: RetryPolicy(minutes_between=-1), "must not be negative", id="negative-pause"),
        pytest.param(lambda: RetryPolicy().next_attempt_at(0, NOW, EVENING_SLOT), "at least 1", id="no-attempt-yet"),
        pytest.param(lambda: RetryPolicy().next_attempt_at(1, datetime(2026, 5, 12, 16), EVENING_SLOT), "naive", id="naive-last"),
    ],
)  # fmt: skip
def test_retry_policy_errors(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]


def test_after_no_answer_schedules_a_retry_while_attempts_remain() -> None:
    outcome = after_no_answer(1, utc(2026, 5, 12, 16, 10), EVENING_SLOT, RetryPolicy(), actor="advisor:17")
    assert outcome.state is State.SCHEDULED
    assert not outcome.final
    assert outcome.next_attempt_at == utc(2026, 5, 12, 16, 40)
    missed, retry = outcome.transitions
    assert (missed.from_state, missed.to_state, missed.actor) == (
        State.IN_PROGRESS,
        State.NOT_REACHED,
        "advisor:17",
    )
    assert (retry.from_state, retry.to_state, retry.actor) == (
        State.NOT_REACHED,
        State.SCHEDULED,
        RETRY_ACTOR,
    )


@pytest.mark.parametrize(
    ("attempts", "at"),
    [
        pytest.param(3, utc(2026, 5, 12, 16, 10), id="last-attempt"),
        pytest.param(1, utc(2026, 5, 12, 18, 45), id="window-closed"),
    ],
)
def test_after_no_answer_leaves_not_reached_final(attempts: int, at: datetime) -> None:
    outcome = after_no_answer(attempts, at, EVENING_SLOT, RetryPolicy(), actor="system:dialler")
    assert outcome.state is State.NOT_REACHED
    assert outcome.final
    assert outcome.next_attempt_at is None
    assert len(outcome.transitions) == 1


# --- time is always aware ---------------------------------------------------------------------------------

NAIVE = datetime(2026, 5, 12, 16)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: resolve_window(EVENING, NAIVE), id="resolve_window"),
        pytest.param(lambda: resolve_window(ASAP, NAIVE), id="resolve_window-asap"),
        pytest.param(lambda: due_time("acute", EVENING_SLOT, NAIVE, RESPONSE), id="due_time"),
        pytest.param(lambda: queue_key("acute", NAIVE, NOW), id="queue_key-due"),
        pytest.param(lambda: queue_key("acute", NOW, NAIVE), id="queue_key-created"),
        pytest.param(lambda: WindowSlot(NAIVE, NOW, "k"), id="slot-start"),
        pytest.param(lambda: EVENING_SLOT.contains(NAIVE), id="slot-contains"),
        pytest.param(lambda: record("requested", "schedule", actor="relative", at=NAIVE), id="record"),
    ],
)
def test_naive_datetimes_are_refused(call: object) -> None:
    with pytest.raises(ValueError, match="naive"):
        call()  # type: ignore[operator]


def test_slot_must_end_after_it_starts() -> None:
    with pytest.raises(ValueError, match="ends at or before it starts"):
        WindowSlot(NOW, NOW, "k")


def test_slot_contains_is_start_inclusive_end_exclusive() -> None:
    assert EVENING_SLOT.contains(utc(2026, 5, 12, 16))
    assert EVENING_SLOT.contains(local(2026, 5, 12, 20, 59))
    assert not EVENING_SLOT.contains(utc(2026, 5, 12, 19))

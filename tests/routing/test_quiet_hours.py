"""Quiet hours: a question is never called back at night unless the relative chose that time.

The shipped quiet hours are 21:30-07:00 Copenhagen time. Instants are checked in UTC against hand-computed
values: Copenhagen is UTC+1 in winter and UTC+2 in summer; the clocks change on Sunday 29 March 2026 (02:00 CET
becomes 03:00 CEST) and Sunday 25 October 2026 (03:00 CEST becomes 02:00 CET).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routing.callbacks import (
    Priority,
    QuietHours,
    RetryPolicy,
    WindowSlot,
    WindowSpec,
    after_no_answer,
    due_time,
    resolve_window,
)
from routing.wallclock import COPENHAGEN

QUIET = QuietHours(time(21, 30), time(7))
ASAP = WindowSpec("asap", within_minutes=240)
ASAP_HOUR = WindowSpec("asap", within_minutes=60)
EVENING = WindowSpec("this_evening", time(17), time(21))
LATE = WindowSpec("late_evening", time(20), time(23))
NIGHT = WindowSpec("night", time(22), time(6))


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0, fold: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=COPENHAGEN, fold=fold)


# (spec, asked at, expected start UTC, expected end UTC)
CASES = [
    # The case: a question at 22:44 on a winter Monday is called back from 07:00, not "i nat".
    pytest.param(
        ASAP, local(2026, 11, 23, 22, 44), utc(2026, 11, 24, 6), utc(2026, 11, 24, 10), id="asap-2244-winter"
    ),
    pytest.param(
        ASAP,
        local(2026, 11, 24, 3, 0),
        utc(2026, 11, 24, 6),
        utc(2026, 11, 24, 10),
        id="asap-0300-same-morning",
    ),
    pytest.param(
        ASAP, local(2026, 11, 24, 6, 59), utc(2026, 11, 24, 6), utc(2026, 11, 24, 10), id="asap-0659"
    ),
    pytest.param(
        ASAP, local(2026, 11, 24, 7, 0), utc(2026, 11, 24, 6), utc(2026, 11, 24, 10), id="asap-at-0700-now"
    ),
    pytest.param(
        ASAP,
        local(2026, 11, 24, 12, 0),
        utc(2026, 11, 24, 11),
        utc(2026, 11, 24, 15),
        id="asap-noon-untouched",
    ),
    # Asked in the evening: until the quiet hours begin, if at least 30 minutes are left, else the morning.
    pytest.param(
        ASAP,
        local(2026, 11, 24, 19, 0),
        utc(2026, 11, 24, 18),
        utc(2026, 11, 24, 20, 30),
        id="asap-1900-until-2130",
    ),
    pytest.param(
        ASAP,
        local(2026, 11, 24, 21, 0),
        utc(2026, 11, 24, 20),
        utc(2026, 11, 24, 20, 30),
        id="asap-2100-30-min-left",
    ),
    pytest.param(
        ASAP,
        local(2026, 11, 24, 21, 1),
        utc(2026, 11, 25, 6),
        utc(2026, 11, 25, 10),
        id="asap-2101-next-morning",
    ),
    pytest.param(
        ASAP_HOUR,
        local(2026, 11, 24, 21, 29),
        utc(2026, 11, 25, 6),
        utc(2026, 11, 25, 7),
        id="asap-hour-2129",
    ),
    pytest.param(
        ASAP, local(2026, 11, 24, 21, 30), utc(2026, 11, 25, 6), utc(2026, 11, 25, 10), id="asap-at-2130"
    ),
    # Summer time (UTC+2).
    pytest.param(
        ASAP, local(2026, 6, 15, 23, 10), utc(2026, 6, 16, 5), utc(2026, 6, 16, 9), id="asap-summer-2310"
    ),
    # Spring change: the night of Saturday 28 March is an hour shorter, and still ends at 07:00 CEST.
    pytest.param(
        ASAP, local(2026, 3, 28, 22, 44), utc(2026, 3, 29, 5), utc(2026, 3, 29, 9), id="spring-saturday-2244"
    ),
    pytest.param(
        ASAP, utc(2026, 3, 29, 0, 59), utc(2026, 3, 29, 5), utc(2026, 3, 29, 9), id="spring-0159-cet"
    ),
    pytest.param(
        ASAP, utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 5), utc(2026, 3, 29, 9), id="spring-0300-cest"
    ),
    pytest.param(
        ASAP, local(2026, 3, 29, 21, 45), utc(2026, 3, 30, 5), utc(2026, 3, 30, 9), id="spring-sunday-evening"
    ),
    # Autumn change: 02:00-03:00 happens twice; both readings wait for 07:00 CET (06:00 UTC).
    pytest.param(
        ASAP,
        local(2026, 10, 24, 22, 44),
        utc(2026, 10, 25, 6),
        utc(2026, 10, 25, 10),
        id="autumn-saturday-2244",
    ),
    pytest.param(
        ASAP, utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 6), utc(2026, 10, 25, 10), id="autumn-0230-first"
    ),
    pytest.param(
        ASAP, utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 6), utc(2026, 10, 25, 10), id="autumn-0230-second"
    ),
    pytest.param(
        ASAP, local(2026, 10, 25, 6, 30), utc(2026, 10, 25, 6), utc(2026, 10, 25, 10), id="autumn-0630-cet"
    ),
    pytest.param(
        ASAP,
        local(2026, 10, 25, 21, 0),
        utc(2026, 10, 25, 20),
        utc(2026, 10, 25, 20, 30),
        id="autumn-sunday-2100-cet",
    ),
    # A window with hours is cut at the quiet hours; one that lies wholly in them moves to the humane part.
    pytest.param(
        EVENING, local(2026, 11, 24, 12), utc(2026, 11, 24, 16), utc(2026, 11, 24, 20), id="evening-untouched"
    ),
    pytest.param(
        LATE, local(2026, 11, 24, 12), utc(2026, 11, 24, 19), utc(2026, 11, 24, 20, 30), id="late-cut-at-2130"
    ),
    pytest.param(
        LATE,
        local(2026, 11, 24, 21, 10),
        utc(2026, 11, 25, 19),
        utc(2026, 11, 25, 20, 30),
        id="late-after-cut-next-day",
    ),
    pytest.param(
        LATE, local(2026, 3, 29, 12), utc(2026, 3, 29, 18), utc(2026, 3, 29, 19, 30), id="late-spring-sunday"
    ),
    pytest.param(
        LATE,
        local(2026, 10, 25, 12),
        utc(2026, 10, 25, 19),
        utc(2026, 10, 25, 20, 30),
        id="late-autumn-sunday",
    ),
]


@pytest.mark.parametrize(("spec", "asked", "start", "end"), CASES)
def test_quiet_hours_move_the_slot(spec: WindowSpec, asked: datetime, start: datetime, end: datetime) -> None:
    slot = resolve_window(spec, asked, quiet=QUIET)
    assert (slot.start_utc, slot.end_utc) == (start, end)
    assert not QUIET.contains(slot.start_utc)
    assert not QUIET.contains(slot.end_utc - timedelta(seconds=1))


@pytest.mark.parametrize(
    ("spec", "asked"),
    [
        pytest.param(ASAP, local(2026, 11, 23, 22, 44), id="asap-at-night"),
        pytest.param(NIGHT, local(2026, 11, 23, 12), id="night-window"),
    ],
)
def test_without_quiet_hours_a_chosen_window_keeps_the_night(spec: WindowSpec, asked: datetime) -> None:
    slot = resolve_window(spec, asked)
    assert QUIET.contains(slot.start_utc)


def test_a_window_wholly_in_the_quiet_hours_is_refused_unless_chosen() -> None:
    with pytest.raises(ValueError, match="inside the quiet hours"):
        resolve_window(NIGHT, local(2026, 11, 23, 12), quiet=QUIET)


@pytest.mark.parametrize(
    ("instant", "quiet"),
    [
        (local(2026, 11, 23, 21, 29), False),
        (local(2026, 11, 23, 21, 30), True),
        (local(2026, 11, 24, 0, 0), True),
        (local(2026, 11, 24, 6, 59), True),
        (local(2026, 11, 24, 7, 0), False),
        (utc(2026, 3, 29, 4, 59), True),  # 06:59 CEST
        (utc(2026, 3, 29, 5, 0), False),  # 07:00 CEST
        (utc(2026, 10, 25, 5, 59), True),  # 06:59 CET
        (utc(2026, 10, 25, 6, 0), False),  # 07:00 CET
    ],
)
def test_contains(instant: datetime, quiet: bool) -> None:
    assert QUIET.contains(instant) is quiet


def test_equal_start_and_end_are_refused() -> None:
    with pytest.raises(ValueError, match="give a span"):
        QuietHours(time(7), time(7))


@pytest.mark.parametrize(
    ("asked", "due"),
    [
        pytest.param(local(2026, 11, 23, 22, 44), utc(2026, 11, 24, 10), id="moved-counts-from-0700"),
        pytest.param(local(2026, 11, 23, 19, 0), utc(2026, 11, 23, 20, 30), id="cut-is-due-at-2130"),
        pytest.param(local(2026, 11, 23, 12, 0), utc(2026, 11, 23, 15, 0), id="day-untouched"),
    ],
)
def test_due_time_of_a_slot_kept_out_of_the_quiet_hours(asked: datetime, due: datetime) -> None:
    slot = resolve_window(ASAP, asked, quiet=QUIET)
    assert due_time(Priority.QUESTION, slot, asked, {"acute": 30, "question": 240}, quiet=QUIET) == due


@pytest.mark.parametrize(
    ("attempted", "expected"),
    [
        pytest.param(local(2026, 11, 24, 20, 0), utc(2026, 11, 24, 19, 30), id="retry-before-quiet"),
        pytest.param(local(2026, 11, 24, 21, 10), utc(2026, 11, 25, 6), id="retry-waits-for-morning"),
        pytest.param(utc(2026, 10, 25, 0, 50), utc(2026, 10, 25, 6), id="retry-autumn-night"),
    ],
)
def test_a_retry_waits_for_the_quiet_hours_to_end(attempted: datetime, expected: datetime) -> None:
    slot = WindowSlot(attempted - timedelta(hours=1), attempted + timedelta(hours=3), "asap", asap=True)
    outcome = after_no_answer(1, attempted, slot, RetryPolicy(3, 30), actor="advisor:a", quiet=QUIET)
    assert outcome.next_attempt_at == expected


@given(
    asked=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    within=st.integers(min_value=15, max_value=600),
)
def test_as_soon_as_possible_is_never_in_the_quiet_hours(asked: datetime, within: int) -> None:
    slot = resolve_window(WindowSpec("asap", within_minutes=within), asked, quiet=QUIET)
    assert slot.start_utc >= asked and slot.start_utc - asked <= timedelta(
        hours=11
    )  # the October night is 11 h
    assert QUIET.humane(slot.start_utc, slot.end_utc) == [(slot.start_utc, slot.end_utc)]
    assert slot.length >= min(timedelta(minutes=30), timedelta(minutes=within))

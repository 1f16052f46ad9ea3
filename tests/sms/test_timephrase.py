"""Time phrases with a controlled clock: day words, Danish clock style, DST Sundays and midnight."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.wallclock import COPENHAGEN
from sms.timephrase import window_phrase

CPH = COPENHAGEN


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=CPH)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


MONDAY_10 = local(2026, 3, 2, 10, 0)

DANISH = [
    # now, start, end, expected
    (MONDAY_10, local(2026, 3, 2, 17), local(2026, 3, 2, 21), "i aften mellem 17 og 21"),
    (MONDAY_10, local(2026, 3, 2, 14, 30), local(2026, 3, 2, 14, 30), "i dag kl. 14.30"),
    (MONDAY_10, local(2026, 3, 2, 12), local(2026, 3, 2, 13, 15), "i dag mellem 12 og 13.15"),
    (MONDAY_10, local(2026, 3, 2, 10, 5), local(2026, 3, 2, 11), "i dag mellem 10.05 og 11"),
    (MONDAY_10, local(2026, 3, 2, 16), local(2026, 3, 2, 18), "i dag mellem 16 og 18"),
    (MONDAY_10, local(2026, 3, 2, 22), local(2026, 3, 2, 23), "i nat mellem 22 og 23"),
    (MONDAY_10, local(2026, 3, 2, 21), local(2026, 3, 3, 0), "i aften mellem 21 og 24"),
    (MONDAY_10, local(2026, 3, 3, 8), local(2026, 3, 3, 10), "i morgen mellem 8 og 10"),
    (MONDAY_10, local(2026, 3, 3, 6), local(2026, 3, 3, 8), "i morgen tidlig mellem 6 og 8"),
    (MONDAY_10, local(2026, 3, 3, 7, 30), local(2026, 3, 3, 7, 30), "i morgen tidlig kl. 7.30"),
    (MONDAY_10, local(2026, 3, 3, 18), local(2026, 3, 3, 20), "i morgen aften mellem 18 og 20"),
    (MONDAY_10, local(2026, 3, 3, 2), local(2026, 3, 3, 4), "i morgen mellem 2 og 4"),
    (MONDAY_10, local(2026, 3, 4, 9), local(2026, 3, 4, 12), "på onsdag mellem 9 og 12"),
    (MONDAY_10, local(2026, 3, 8, 9), local(2026, 3, 8, 12), "på søndag mellem 9 og 12"),
    # A week ahead, "på mandag" would be ambiguous: the date is used.
    (MONDAY_10, local(2026, 3, 9, 9), local(2026, 3, 9, 12), "den 9. marts mellem 9 og 12"),
    (MONDAY_10, local(2026, 4, 1, 9), local(2026, 4, 1, 9), "den 1. april kl. 9"),
    # Saturday evening: Monday is two days ahead.
    (local(2026, 3, 7, 20), local(2026, 3, 9, 9), local(2026, 3, 9, 12), "på mandag mellem 9 og 12"),
    # A window that is already open: "before" its end.
    (local(2026, 3, 2, 18), local(2026, 3, 2, 17), local(2026, 3, 2, 21), "i aften inden kl. 21"),
    (local(2026, 3, 2, 15), local(2026, 3, 2, 14), local(2026, 3, 2, 17), "i dag inden kl. 17"),
    # A deadline by 18.00 is "today", though its last minute is in the evening; after 18.00 it is the evening.
    (local(2026, 3, 2, 14), local(2026, 3, 2, 12), local(2026, 3, 2, 18), "i dag inden kl. 18"),
    (local(2026, 3, 2, 14), local(2026, 3, 2, 12), local(2026, 3, 2, 18, 30), "i aften inden kl. 18.30"),
    # Midnight crossing.
    (local(2026, 3, 2, 20), local(2026, 3, 2, 23), local(2026, 3, 3, 1), "i nat mellem 23 og 1"),
    (local(2026, 3, 2, 23, 30), local(2026, 3, 3, 0, 15), local(2026, 3, 3, 1), "i nat mellem 0.15 og 1"),
    (
        local(2026, 3, 2, 23, 50),
        local(2026, 3, 2, 23, 55),
        local(2026, 3, 3, 0, 30),
        "i nat mellem 23.55 og 0.30",
    ),
    (local(2026, 3, 3, 1), local(2026, 3, 3, 3), local(2026, 3, 3, 5), "i nat mellem 3 og 5"),
    (local(2026, 3, 3, 1), local(2026, 3, 3, 8), local(2026, 3, 3, 9), "i dag mellem 8 og 9"),
    (local(2026, 3, 2, 23, 59), local(2026, 3, 3, 9), local(2026, 3, 3, 10), "i morgen mellem 9 og 10"),
    (local(2026, 3, 3, 0, 1), local(2026, 3, 3, 9), local(2026, 3, 3, 10), "i dag mellem 9 og 10"),
    # Long windows that end on a later day are spelt out.
    (MONDAY_10, local(2026, 3, 2, 17), local(2026, 3, 3, 10), "fra kl. 17 i aften til kl. 10 i morgen"),
    # Seconds are not shown.
    (MONDAY_10, local(2026, 3, 2, 17, 0, 59), local(2026, 3, 2, 21, 0, 30), "i aften mellem 17 og 21"),
]


@pytest.mark.parametrize(("now", "start", "end", "expected"), DANISH)
def test_danish_window_phrases(now: datetime, start: datetime, end: datetime, expected: str) -> None:
    assert window_phrase(start.astimezone(UTC), end.astimezone(UTC), now.astimezone(UTC), "da") == expected


OTHER_LANGUAGES = [
    ("en", local(2026, 3, 2, 17), local(2026, 3, 2, 21), "this evening between 17:00 and 21:00"),
    ("en", local(2026, 3, 2, 14, 30), local(2026, 3, 2, 14, 30), "today at 14:30"),
    ("en", local(2026, 3, 2, 21), local(2026, 3, 3, 0), "this evening between 21:00 and midnight"),
    ("en", local(2026, 3, 3, 6), local(2026, 3, 3, 8), "early tomorrow between 6:00 and 8:00"),
    ("en", local(2026, 3, 9, 9), local(2026, 3, 9, 12), "on 9 March between 9:00 and 12:00"),
    ("pl", local(2026, 3, 4, 9), local(2026, 3, 4, 12), "w środę między 9:00 a 12:00"),
    ("uk", local(2026, 3, 6, 9), local(2026, 3, 6, 12), "у п'ятницю з 9:00 до 12:00"),
    ("tr", local(2026, 3, 2, 17), local(2026, 3, 2, 21), "bu akşam saat 17.00 ile 21.00 arası"),
    ("ar", local(2026, 3, 3, 8), local(2026, 3, 3, 10), "غدًا بين الساعة 8:00 و10:00"),
    ("so", local(2026, 3, 3, 8), local(2026, 3, 3, 10), "berri inta u dhaxaysa 8:00 iyo 10:00"),
    # No file for German: Danish.
    ("de", local(2026, 3, 2, 17), local(2026, 3, 2, 21), "i aften mellem 17 og 21"),
]


@pytest.mark.parametrize(("language", "start", "end", "expected"), OTHER_LANGUAGES)
def test_other_languages(language: str, start: datetime, end: datetime, expected: str) -> None:
    assert window_phrase(start, end, MONDAY_10, language) == expected


DST = [
    # Spring forward, Sunday 2026-03-29: 02:00 CET becomes 03:00 CEST, so UTC+1 before and UTC+2 after.
    (utc(2026, 3, 28, 11), utc(2026, 3, 28, 16), utc(2026, 3, 28, 20), "i aften mellem 17 og 21"),
    (utc(2026, 3, 28, 20), utc(2026, 3, 29, 6), utc(2026, 3, 29, 8), "i morgen mellem 8 og 10"),
    (utc(2026, 3, 28, 20), utc(2026, 3, 29, 15), utc(2026, 3, 29, 19), "i morgen aften mellem 17 og 21"),
    # Across the gap: 01:30 CET to 03:30 CEST is one hour, shown as the clocks read.
    (utc(2026, 3, 28, 23, 30), utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 30), "i nat mellem 1.30 og 3.30"),
    (utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1), utc(2026, 3, 29, 1), "i nat kl. 3"),
    (utc(2026, 3, 27, 11), utc(2026, 3, 30, 6), utc(2026, 3, 30, 8), "på mandag mellem 8 og 10"),
    # Fall back, Sunday 2026-10-25: 03:00 CEST becomes 02:00 CET, so UTC+2 before and UTC+1 after.
    (utc(2026, 10, 24, 20), utc(2026, 10, 25, 6), utc(2026, 10, 25, 8), "i morgen tidlig mellem 7 og 9"),
    (utc(2026, 10, 24, 10), utc(2026, 10, 24, 15), utc(2026, 10, 24, 19), "i aften mellem 17 og 21"),
    (utc(2026, 10, 24, 10), utc(2026, 10, 25, 16), utc(2026, 10, 25, 20), "i morgen aften mellem 17 og 21"),
    # The repeated hour: 02:30 CEST and 02:30 CET are an hour apart, not a moment.
    (utc(2026, 10, 24, 22), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30), "i nat mellem 2.30 og 2.30"),
    (utc(2026, 10, 24, 22), utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 1, 30), "i nat kl. 2.30"),
    (utc(2026, 10, 25, 1, 15), utc(2026, 10, 25, 1), utc(2026, 10, 25, 3), "i nat inden kl. 4"),
]


@pytest.mark.parametrize(("now", "start", "end", "expected"), DST)
def test_daylight_saving_sundays(now: datetime, start: datetime, end: datetime, expected: str) -> None:
    assert window_phrase(start, end, now, "da") == expected


def test_other_timezones_and_offsets_give_the_same_answer() -> None:
    start, end, now = local(2026, 6, 1, 17), local(2026, 6, 1, 21), local(2026, 6, 1, 9)
    assert window_phrase(start, end, now, "da") == "i aften mellem 17 og 21"
    assert window_phrase(start.astimezone(UTC), end.astimezone(UTC), now.astimezone(UTC), "da") == (
        "i aften mellem 17 og 21"
    )
    # The same instants read in UTC are two hours earlier.
    assert window_phrase(start, end, now, "da", tz=UTC) == "i dag mellem 15 og 19"


@pytest.mark.parametrize(
    ("start", "end", "now", "message"),
    [
        (
            datetime(2026, 3, 2, 17),
            utc(2026, 3, 2, 20),
            utc(2026, 3, 2, 9),
            "start_utc must be timezone-aware",
        ),
        (utc(2026, 3, 2, 17), datetime(2026, 3, 2, 20), utc(2026, 3, 2, 9), "end_utc must be timezone-aware"),
        (utc(2026, 3, 2, 17), utc(2026, 3, 2, 20), datetime(2026, 3, 2, 9), "now_utc must be timezone-aware"),
        (utc(2026, 3, 2, 17), utc(2026, 3, 2, 16), utc(2026, 3, 2, 9), "before it starts"),
        (utc(2026, 3, 2, 7), utc(2026, 3, 2, 8), utc(2026, 3, 2, 9), "window ended"),
        (utc(2026, 3, 2, 7), utc(2026, 3, 2, 9), utc(2026, 3, 2, 9), "window ended"),
        (utc(2026, 3, 2, 8), utc(2026, 3, 2, 8), utc(2026, 3, 2, 9), "window ended"),
    ],
)
def test_refuses_naive_reversed_and_past_windows(
    start: datetime, end: datetime, now: datetime, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        window_phrase(start, end, now, "da")


# The first example reads the catalogue files; that is not what the deadline is for.
@settings(deadline=None)
@given(
    now=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
    ),
    lead=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)),
    length=st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=30)),
    language=st.sampled_from(["da", "en", "ar", "tr", "uk", "pl", "so", "xx"]),
)
def test_any_future_window_has_a_phrase_showing_its_end(
    now: datetime, lead: timedelta, length: timedelta, language: str
) -> None:
    start = now + lead
    end = start + length
    phrase = window_phrase(start, end, now, language)
    assert phrase and "{" not in phrase
    end_local = end.astimezone(CPH)
    if language in {"da", "xx"} and length >= timedelta(minutes=1):
        shown = "24" if (end_local.hour, end_local.minute) == (0, 0) else str(end_local.hour)
        assert shown in phrase


def test_a_long_window_across_weekdays_reads_naturally() -> None:
    """Not "fra på torsdag": the weekday follows the clock time in Danish and English."""
    now = local(2026, 3, 2, 10)  # a Monday
    start, end = local(2026, 3, 5, 22), local(2026, 3, 6, 18)
    utc = [moment.astimezone(UTC) for moment in (start, end, now)]
    assert window_phrase(*utc, "da") == "fra kl. 22 på torsdag til kl. 18 på fredag"
    assert window_phrase(*utc, "en").startswith("from ") and " on Thursday to " in window_phrase(*utc, "en")

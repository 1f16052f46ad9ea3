import dataclasses
from datetime import date, timedelta

import pytest

from routing.coverage_calendar import (
    ClockChangeKind,
    build_calendar,
    cached_calendar,
    clock_change,
    month_range,
    week_range,
)
from routing.gaps import CoverageHours, WeeklyWindow, find_gaps
from routing.holiday_rule import HolidayRule
from routing.oncall import Source, oncall_at
from routing.roster import Layer, Override, Roster
from tests.routing.factory import advisor, cph, hm, shift

P, B, M = Layer.PRIMARY, Layer.BACKUP, Layer.MANAGER


def nights(*, rule: HolidayRule | None = None, overrides: tuple[Override, ...] = ()) -> Roster:
    """Days 07:00-22:00 by dag on weekdays and weekend alike, nights 22:00-07:00 by nat; at weekends sol works
    the days instead (so a holiday with `use: sunday` shows sol); chef manages around the clock."""
    return Roster(
        advisors=(
            advisor("dag", 1),
            advisor("nat", 2),
            advisor("sol", 3),
            advisor("chef", 4),
            advisor("vik", 5),
        ),
        shifts=(
            shift("dag", P, "mon-fri", "07:00", "22:00"),
            shift("sol", P, "sat,sun", "07:00", "22:00"),
            shift("nat", P, "daily", "22:00", "07:00"),
            shift("chef", M, "daily", "07:00", "07:00"),
        ),
        overrides=overrides,
        holiday_rule=rule or HolidayRule(use=None),
    )


def night_of(roster: Roster, day: date) -> tuple[int, bool]:
    """The minutes of the primary night shift that starts on `day`, and whether it says the clocks change."""
    (slot,) = [
        s
        for s in build_calendar(roster, day, day).day(day).layer(P)
        if s.start_label == "22:00" and not s.carried
    ]
    return slot.minutes, slot.clock_changed


@pytest.mark.parametrize(
    ("saturday", "minutes", "changed"),
    [
        (date(2026, 3, 28), 8 * 60, True),  # into the spring Sunday: 02:00-03:00 does not exist
        (date(2026, 10, 24), 10 * 60, True),  # into the autumn Sunday: 02:00-03:00 happens twice
        (date(2026, 3, 21), 9 * 60, False),
        (date(2026, 10, 31), 9 * 60, False),
    ],
)
def test_the_night_into_a_clock_change_is_an_hour_shorter_or_longer(
    saturday: date, minutes: int, changed: bool
) -> None:
    assert night_of(nights(), saturday) == (minutes, changed)


@pytest.mark.parametrize(
    ("sunday", "kind", "before", "after", "hours"),
    [
        (date(2026, 3, 29), ClockChangeKind.SPRING, "02:00", "03:00", 23),
        (date(2026, 10, 25), ClockChangeKind.AUTUMN, "03:00", "02:00", 25),
    ],
)
def test_the_clock_change_sundays_are_marked(
    sunday: date, kind: ClockChangeKind, before: str, after: str, hours: int
) -> None:
    week = build_calendar(nights(), *week_range(sunday))
    marked = [d.day for d in week.days if d.clock_change is not None]
    assert marked == [sunday]
    day = week.day(sunday)
    assert day.clock_change is not None
    assert (day.clock_change.kind, day.clock_change.before, day.clock_change.after) == (kind, before, after)
    assert day.hours == hours
    assert [d.hours for d in week.days if d.day != sunday] == [24] * 6
    # The night carried into the Sunday is listed there too, marked as from the day before.
    (carried,) = [s for s in day.layer(P) if s.carried]
    assert (carried.advisor_id, carried.start_label, carried.end_label) == ("nat", "22:00", "07:00")


def test_no_clock_change_on_an_ordinary_day() -> None:
    assert clock_change(date(2026, 6, 7)) is None


def test_a_holiday_with_use_sunday_runs_the_sunday_shifts() -> None:
    roster = nights(rule=HolidayRule(use=6))
    day = build_calendar(roster, date(2026, 12, 25), date(2026, 12, 25)).days[0]  # Juledag, a Friday
    assert day.holiday == "Juledag"
    assert day.pattern_weekday == 6
    own = [s for s in day.layer(P) if not s.carried]
    assert [(s.advisor_id, s.source) for s in own] == [("sol", Source.HOLIDAY), ("nat", Source.HOLIDAY)]
    assert own[0].holiday == "Juledag"


def test_a_holiday_with_use_normal_is_marked_but_keeps_its_own_shifts() -> None:
    day = build_calendar(nights(), date(2026, 12, 25), date(2026, 12, 25)).days[0]
    assert (day.holiday, day.pattern_weekday) == ("Juledag", None)
    assert [s.advisor_id for s in day.layer(P) if not s.carried] == ["dag", "nat"]
    assert build_calendar(nights(), date(2026, 12, 22), date(2026, 12, 22)).days[0].holiday is None


def test_an_override_shows_who_works_the_night_and_whom_they_cover() -> None:
    cover = Override.replacement("vik", "nat", cph(2026, 11, 3, 22), cph(2026, 11, 4, 7), reason="syg")
    day = build_calendar(nights(overrides=(cover,)), date(2026, 11, 3), date(2026, 11, 3)).days[0]
    (night,) = [s for s in day.layer(P) if s.start_label == "22:00" and not s.carried]
    assert (night.advisor_id, night.source, night.covers, night.covers_name) == (
        "vik",
        Source.OVERRIDE,
        "nat",
        "Nat",
    )
    assert night.continues and not night.carried
    # The same answer as the on-call lookup the calls use.
    assert [
        e.advisor.id for e in oncall_at(nights(overrides=(cover,)), cph(2026, 11, 4, 3)) if e.layer is P
    ] == ["vik"]


def test_a_gap_is_shown_on_every_day_it_touches_with_its_hours() -> None:
    sick = Override.absence("nat", cph(2026, 10, 24, 22), cph(2026, 10, 25, 7))
    roster = nights(overrides=(sick,))
    cal = build_calendar(roster, date(2026, 10, 19), date(2026, 10, 25))
    saturday, sunday = cal.day(date(2026, 10, 24)), cal.day(date(2026, 10, 25))
    assert [(g.start_label, g.end_label) for g in saturday.gaps] == [("22:00", "07:00")]
    assert [(g.start_label, g.end_label) for g in sunday.gaps] == [("24/10 22:00", "07:00")]
    assert saturday.gaps[0].minutes == 10 * 60  # the long night
    assert cal.gap_count == 1
    assert [(g.start, g.end) for g in saturday.gaps] == list(
        find_gaps(roster, cph(2026, 10, 19), cph(2026, 10, 26))
    )
    assert [d.day for d in cal.days if d.gaps] == [date(2026, 10, 24), date(2026, 10, 25)]
    # The manager alone does not close it, and nobody is listed as primary in it.
    assert not [s for s in saturday.layer(P) if s.start_label == "22:00" and not s.carried]


def test_gaps_count_only_inside_the_coverage_hours() -> None:
    sick = Override.absence("nat", cph(2026, 6, 9, 22), cph(2026, 6, 10, 7))
    daytime = CoverageHours((WeeklyWindow(tuple(range(7)), hm("07:00"), hm("22:00")),))
    assert (
        build_calendar(nights(overrides=(sick,)), date(2026, 6, 9), date(2026, 6, 10), daytime).gap_count == 0
    )
    assert build_calendar(nights(overrides=(sick,)), date(2026, 6, 9), date(2026, 6, 10)).gap_count == 1


def test_a_gap_ending_at_midnight_reads_24_00() -> None:
    roster = Roster(advisors=(advisor("dag", 1),), shifts=(shift("dag", P, "daily", "00:00", "20:00"),))
    day = build_calendar(roster, date(2026, 6, 9), date(2026, 6, 9)).days[0]
    assert [(g.start_label, g.end_label) for g in day.gaps] == [("20:00", "24:00")]


def test_layers_come_in_ring_order_and_empty_layers_are_kept() -> None:
    day = build_calendar(nights(), date(2026, 6, 9), date(2026, 6, 9)).days[0]
    assert [ls.layer for ls in day.layers] == [P, B, M]
    assert day.layer(B) == ()
    assert [s.advisor_id for s in day.layer(M)] == ["chef", "chef"]  # yesterday's 24 hours, and today's


def test_ranges() -> None:
    assert week_range(date(2026, 3, 29)) == (date(2026, 3, 23), date(2026, 3, 29))
    assert week_range(date(2026, 3, 23)) == (date(2026, 3, 23), date(2026, 3, 29))
    assert month_range(date(2026, 2, 14)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert month_range(date(2026, 12, 31)) == (date(2026, 12, 1), date(2026, 12, 31))
    whole = build_calendar(nights(), *month_range(date(2026, 10, 5)))
    assert [d.day for d in whole.days] == [date(2026, 10, 1) + timedelta(days=n) for n in range(31)]


def test_bad_ranges_are_refused() -> None:
    with pytest.raises(ValueError, match="before"):
        build_calendar(nights(), date(2026, 6, 9), date(2026, 6, 8))
    with pytest.raises(ValueError, match="more than"):
        build_calendar(nights(), date(2026, 1, 1), date(2026, 12, 31))


def test_the_cached_calendar_is_kept_per_roster_version() -> None:
    roster = nights()
    week = week_range(date(2026, 10, 25))
    first = cached_calendar(roster, *week)
    assert cached_calendar(roster, *week) is first
    assert first == build_calendar(roster, *week)
    cover = Override.replacement("vik", "nat", cph(2026, 10, 24, 22), cph(2026, 10, 25, 7))
    changed = dataclasses.replace(roster, overrides=(cover,))  # a new version: its own, empty memo
    night = [s for s in cached_calendar(changed, *week).day(date(2026, 10, 24)).layer(P) if not s.carried]
    assert [s.advisor_id for s in night] == ["sol", "vik"]

import random
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from routing.gaps import CoverageHours, Gap, WeeklyWindow, find_gaps
from routing.oncall import oncall_at
from routing.roster import Layer, Override, Roster, WeeklyShift
from routing.roster_file import load_roster
from tests.routing.factory import advisor, big_roster, cph, shift

P, B, M = Layer.PRIMARY, Layer.BACKUP, Layer.MANAGER
DEMO = Path(__file__).parents[2] / "routing" / "demo_roster.yaml"


def full() -> Roster:
    """Primary around the clock in two shifts that meet at 07:00 and 19:00."""
    return Roster(
        advisors=(advisor("dag", 1), advisor("nat", 2), advisor("chef", 3)),
        shifts=(
            shift("dag", P, "daily", "07:00", "19:00"),
            shift("nat", P, "daily", "19:00", "07:00"),
            shift("chef", M, "daily", "00:00", "00:00"),
        ),
    )


@pytest.mark.parametrize(
    ("start", "end"), [(cph(2026, 1, 1), cph(2028, 1, 1)), (cph(2026, 10, 24), cph(2026, 10, 26))]
)
def test_full_roster_has_no_gaps(start: datetime, end: datetime) -> None:
    assert find_gaps(full(), start, end) == []


def test_demo_roster_covers_every_hour() -> None:
    roster = load_roster(DEMO.read_text(encoding="utf-8"), "demo_roster.yaml")
    assert find_gaps(roster, cph(2026, 1, 1), cph(2028, 1, 1)) == []


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("18:59", "19:00"),  # the day shift ends a minute early
        ("19:00", "19:01"),
    ],
)
def test_one_minute_gap_is_found(start: str, end: str) -> None:
    roster = Roster(
        advisors=(advisor("dag", 1), advisor("nat", 2)),
        shifts=(
            shift("dag", P, "daily", "07:00", start),
            shift("nat", P, "daily", end, "07:00"),
        ),
    )
    gaps = find_gaps(roster, cph(2026, 6, 10), cph(2026, 6, 11))
    assert gaps == [
        Gap(cph(2026, 6, 10, *map(int, start.split(":"))), cph(2026, 6, 10, *map(int, end.split(":"))))
    ]
    assert gaps[0].duration == timedelta(minutes=1)


def test_one_minute_of_sick_leave_is_a_gap_and_a_manager_does_not_fill_it() -> None:
    sick = Override.absence("nat", cph(2026, 10, 25, 2, 30), cph(2026, 10, 25, 2, 31))
    roster = Roster(full().advisors, full().shifts, (sick,))
    # (compared in UTC: Python never finds a time in the repeated hour equal to one in another zone, PEP 495)
    assert find_gaps(roster, cph(2026, 10, 24), cph(2026, 10, 26)) == [
        Gap(cph(2026, 10, 25, 2, 30).astimezone(UTC), cph(2026, 10, 25, 2, 31).astimezone(UTC))
    ]
    assert find_gaps(roster, cph(2026, 10, 24), cph(2026, 10, 26), layers=(P, M)) == []


def test_backup_closes_a_primary_gap() -> None:
    roster = Roster(
        advisors=(advisor("dag", 1), advisor("reserve", 2)),
        shifts=(shift("dag", P, "daily", "07:00", "19:00"), shift("reserve", B, "daily", "19:00", "07:00")),
    )
    assert find_gaps(roster, cph(2026, 1, 1), cph(2026, 2, 1)) == []
    # primary only: 1 January 00:00-07:00, then every evening from 19:00
    assert len(find_gaps(roster, cph(2026, 1, 1), cph(2026, 2, 1), layers=(P,))) == 32


@pytest.mark.parametrize(
    ("night", "hours"),
    [(date(2026, 3, 28), 8), (date(2026, 10, 24), 10), (date(2027, 3, 27), 8), (date(2027, 10, 30), 10)],
)
def test_uncovered_dst_night_has_its_real_length(night: date, hours: int) -> None:
    roster = Roster(advisors=(advisor("dag", 1),), shifts=(shift("dag", P, "daily", "07:00", "22:00"),))
    gaps = find_gaps(
        roster,
        cph(night.year, night.month, night.day, 12),
        cph(night.year, night.month, night.day, 12) + timedelta(days=1),
    )
    assert [g.duration for g in gaps] == [timedelta(hours=hours)]


def test_tiling_at_the_repeated_october_hour_leaves_no_gap() -> None:
    roster = Roster(
        advisors=(advisor("a", 1), advisor("b", 2), advisor("c", 3)),
        shifts=(
            shift("a", P, "daily", "07:00", "02:30"),
            shift("b", P, "daily", "02:30", "03:00"),  # vanishes in March, lasts 1.5 hours in October
            shift("c", P, "daily", "03:00", "07:00"),
        ),
    )
    for year in (2026, 2027):
        assert find_gaps(roster, cph(year, 1, 1), cph(year + 1, 1, 1)) == []


def test_coverage_hours_limit_where_gaps_count() -> None:
    office_hours = CoverageHours((WeeklyWindow((0, 1, 2, 3, 4), time(8), time(16)),))
    roster = Roster(advisors=(advisor("dag", 1),), shifts=(shift("dag", P, "mon-fri", "08:00", "16:00"),))
    assert find_gaps(roster, cph(2026, 6, 1), cph(2026, 7, 1), office_hours) == []
    around_the_clock = find_gaps(roster, cph(2026, 6, 1), cph(2026, 7, 1))
    # Without coverage hours every night and weekend is a gap: the first night, then one from each of June's
    # 22 weekdays at 16:00 to the next working morning (Friday's runs to Monday, the last to the end).
    assert len(around_the_clock) == 23
    assert around_the_clock[0] == Gap(cph(2026, 6, 1), cph(2026, 6, 1, 8))
    assert around_the_clock[5] == Gap(cph(2026, 6, 5, 16), cph(2026, 6, 8, 8))
    nights = CoverageHours((WeeklyWindow((4,), time(22), time(2)),))  # Friday nights only
    gaps = find_gaps(roster, cph(2026, 6, 1), cph(2026, 6, 15), nights)
    assert gaps == [
        Gap(cph(2026, 6, 5, 22), cph(2026, 6, 6, 2)),
        Gap(cph(2026, 6, 12, 22), cph(2026, 6, 13, 2)),
    ]
    assert gaps[0].describe() == "2026-06-05 22:00 CEST → 2026-06-06 02:00 CEST (4 t 0 min)"


def test_long_roster_gaps_are_exactly_the_uncovered_instants() -> None:
    roster = big_roster(20, n_days=60, overrides_per_day=3, seed=3)
    start = cph(2026, 1, 1)
    gaps = find_gaps(roster, start, cph(2026, 3, 1))
    assert gaps  # sick leave without cover leaves holes in a roster this size
    rng = random.Random(5)
    instants = [g.start for g in gaps] + [g.end - timedelta(seconds=1) for g in gaps] + [g.end for g in gaps]
    instants += [start + timedelta(seconds=rng.randrange(59 * 86400)) for _ in range(300)]
    for t in instants:
        in_gap = any(g.start <= t < g.end for g in gaps)
        covered = any(e.layer in (P, B) for e in oncall_at(roster, t))
        assert in_gap != covered, t


def test_naive_range_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        find_gaps(full(), datetime(2026, 1, 1), cph(2026, 2, 1))


def test_weekly_shift_refuses_bad_days() -> None:
    with pytest.raises(ValueError, match="weekdays"):
        WeeklyShift("a", P, (7,), time(8), time(9))

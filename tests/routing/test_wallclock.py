import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from routing.wallclock import is_first_reading, local_date, to_utc, wall_interval, wall_to_utc
from tests.routing.factory import cph


def utc(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "at", "expected"),
    [
        # ordinary winter and summer times
        (date(2026, 1, 15), time(12, 0), utc(2026, 1, 15, 11)),
        (date(2026, 7, 15), time(12, 0), utc(2026, 7, 15, 10)),
        # spring gap: 02:00-02:59 does not exist; it means 03:00 CEST (01:00 UTC)
        (date(2026, 3, 29), time(2, 0), utc(2026, 3, 29, 1)),
        (date(2026, 3, 29), time(2, 30), utc(2026, 3, 29, 1)),
        (date(2026, 3, 29), time(2, 59), utc(2026, 3, 29, 1)),
        (date(2026, 3, 29), time(3, 0), utc(2026, 3, 29, 1)),
        (date(2026, 3, 29), time(1, 59), utc(2026, 3, 29, 0, 59)),
        (date(2027, 3, 28), time(2, 30), utc(2027, 3, 28, 1)),
        # October repeated hour: the first occurrence (still CEST, UTC+2)
        (date(2026, 10, 25), time(2, 0), utc(2026, 10, 25, 0)),
        (date(2026, 10, 25), time(2, 30), utc(2026, 10, 25, 0, 30)),
        (date(2026, 10, 25), time(3, 0), utc(2026, 10, 25, 2)),
        (date(2027, 10, 31), time(2, 30), utc(2027, 10, 31, 0, 30)),
    ],
)
def test_wall_clock_to_utc(day: date, at: time, expected: datetime) -> None:
    assert wall_to_utc(day, at) == expected


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        (date(2026, 10, 24), 10),  # the night clocks go back lasts ten hours
        (date(2027, 10, 30), 10),
        (date(2026, 3, 28), 8),  # the night clocks go forward lasts eight
        (date(2027, 3, 27), 8),
        (date(2026, 6, 13), 9),
        (date(2026, 12, 31), 9),
    ],
)
def test_night_shift_length_across_dst(day: date, hours: int) -> None:
    span = wall_interval(day, time(22), time(7))
    assert span is not None
    assert span[1] - span[0] == timedelta(hours=hours)


def test_shift_inside_the_spring_gap_vanishes() -> None:
    assert wall_interval(date(2026, 3, 29), time(2, 0), time(2, 30)) is None
    assert wall_interval(date(2026, 3, 22), time(2, 0), time(2, 30)) is not None


def test_start_equal_to_end_is_twenty_four_hours_of_wall_time() -> None:
    span = wall_interval(date(2026, 10, 24), time(7), time(7))
    assert span is not None and span[1] - span[0] == timedelta(hours=25)


@pytest.mark.parametrize("bad", [datetime(2026, 1, 1, 12), datetime(2026, 10, 25, 2, 30)])
def test_naive_datetimes_are_refused(bad: datetime) -> None:
    with pytest.raises(ValueError, match="naive"):
        to_utc(bad)
    with pytest.raises(ValueError, match="naive"):
        local_date(bad)


def test_first_reading_tells_the_two_october_passes_apart() -> None:
    assert is_first_reading(cph(2026, 10, 25, 2, 30, fold=0))
    assert not is_first_reading(cph(2026, 10, 25, 2, 30, fold=1))
    assert is_first_reading(cph(2026, 3, 29, 3, 0))


def test_copenhagen_is_named_in_one_place_only() -> None:
    """The hotline plans in Europe/Copenhagen (there is no setting for it): every module uses `COPENHAGEN`."""
    root = Path(__file__).resolve().parents[2]
    pattern = re.compile(r"""ZoneInfo\(\s*["']Europe/Copenhagen""")
    found = [
        f"{path.relative_to(root)}:{number}"
        for top in ("hotline", "routing", "sms", "ivr_flows", "tests", "benchmarks")
        for path in sorted((root / top).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == ["routing/wallclock.py:19"]

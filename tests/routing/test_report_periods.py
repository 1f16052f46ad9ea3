"""The reports' pure arithmetic: periods and presets by Copenhagen's calendar, the Copenhagen hour of a UTC hour
on the DST Sundays, where a percentile lies, and a bar chart's geometry."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from routing.report_charts import bar_chart
from routing.report_periods import (
    Period,
    PeriodError,
    Preset,
    interpolate,
    local_hour_and_weekday,
    local_hour_of_utc_hour,
    parse_period,
    percentile_position,
    preset_period,
)


@pytest.mark.parametrize(
    ("utc", "local"),
    [
        (datetime(2026, 3, 29, 0, tzinfo=UTC), (1, 7)),  # 01:00 winter time, Sunday
        (datetime(2026, 3, 29, 1, tzinfo=UTC), (3, 7)),  # 02:00 never happens: 03:00 summer time
        (datetime(2026, 10, 25, 0, tzinfo=UTC), (2, 7)),  # the first 02:00 (summer time)
        (datetime(2026, 10, 25, 1, tzinfo=UTC), (2, 7)),  # the second 02:00 (winter time)
        (datetime(2026, 10, 25, 2, tzinfo=UTC), (3, 7)),
        (datetime(2026, 6, 1, 21, tzinfo=UTC), (23, 1)),  # Monday 23:00
        (datetime(2026, 6, 1, 22, tzinfo=UTC), (0, 2)),  # Tuesday 00:00
    ],
)
def test_a_utc_hour_has_one_copenhagen_hour_and_weekday(utc: datetime, local: tuple[int, int]) -> None:
    """The database counts calls per UTC hour; every instant of such an hour shows the same hour in Copenhagen."""
    assert local_hour_of_utc_hour(int(utc.timestamp()) // 3600) == local
    assert local_hour_of_utc_hour(int(utc.timestamp()) // 3600) == local_hour_and_weekday(
        utc + timedelta(minutes=59)
    )


@pytest.mark.parametrize(
    ("day", "hours"), [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (date(2026, 6, 1), 24)]
)
def test_a_day_is_local_midnight_to_local_midnight(day: date, hours: int) -> None:
    period = Period(day, day)
    assert period.end - period.start == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("preset", "first", "last"),
    [
        (Preset.LAST_7, date(2026, 3, 24), date(2026, 3, 30)),
        (Preset.LAST_30, date(2026, 3, 1), date(2026, 3, 30)),
        (Preset.THIS_MONTH, date(2026, 3, 1), date(2026, 3, 30)),
        (Preset.LAST_MONTH, date(2026, 2, 1), date(2026, 2, 28)),
    ],
)
def test_presets_follow_the_copenhagen_calendar(preset: Preset, first: date, last: date) -> None:
    now = datetime(2026, 3, 29, 22, 30, tzinfo=UTC)  # already 30 March in Copenhagen
    assert preset_period(preset, now) == Period(first, last)


@pytest.mark.parametrize(
    ("raw_from", "raw_to", "problem"),
    [
        ("2026-06-02", "2026-06-01", "console.reports.error.order"),
        ("juni", "2026-06-01", "console.reports.error.date"),
        ("2024-01-01", "2026-06-01", "console.reports.error.long"),
    ],
)
def test_a_bad_period_names_its_problem(raw_from: str, raw_to: str, problem: str) -> None:
    with pytest.raises(PeriodError) as caught:
        parse_period(raw_from, raw_to, datetime(2026, 6, 1, tzinfo=UTC))
    assert caught.value.message_id == problem


@pytest.mark.parametrize(
    ("count", "fraction", "low", "part"), [(1, 0.9, 0, 0.0), (10, 0.5, 4, 0.5), (11, 0.9, 9, 0.0)]
)
def test_percentile_positions(count: int, fraction: float, low: int, part: float) -> None:
    position = percentile_position(count, fraction)
    assert position is not None and (position.low, position.fraction) == (low, pytest.approx(part))
    assert percentile_position(0, 0.5) is None
    assert interpolate(percentile_position(4, 0.5) or position, 10.0, 20.0) == 15.0


def test_bar_heights_are_in_proportion_and_labels_thin_out() -> None:
    chart = bar_chart([f"{h:02d}" for h in range(24)], [h % 5 for h in range(24)])
    tallest = max(chart.bars, key=lambda b: b.value)
    assert tallest.y == pytest.approx(14) and all(
        b.y + b.height == pytest.approx(chart.baseline) for b in chart.bars
    )
    assert chart.bars[2].height == pytest.approx(tallest.height / 2)
    assert [b.label for b in chart.bars if b.show_label] == [
        "00",
        "02",
        "04",
        "06",
        "08",
        "10",
        "12",
        "14",
        "16",
        "18",
        "20",
        "22",
    ]
    assert all(b.height == 0 for b in bar_chart(["a", "b"], [0, 0]).bars)
    with pytest.raises(ValueError):
        bar_chart(["a"], [1, 2])

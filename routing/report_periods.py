"""The reports' arithmetic, with no database: a period of Copenhagen calendar days as UTC instants, the presets a
manager picks from, the Copenhagen hour and weekday of a UTC hour (so a database with no time zones can still
bucket by local hour), and where a percentile lies in a sorted list of n values.

The figures themselves are counted by the database (hotline/services/reports/); this module only says which
instants and which positions to ask for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from routing.wallclock import COPENHAGEN, local_date, require_aware, wall_to_utc

# The longest period the dashboard answers for: two years of history is what the hotline keeps.
MAX_DAYS = 731


class Preset(StrEnum):
    LAST_7 = "last7"
    LAST_30 = "last30"
    THIS_MONTH = "this_month"
    LAST_MONTH = "last_month"


class PeriodError(ValueError):
    """A period that cannot be reported on; `message_id` names the words for the manager."""

    def __init__(self, message_id: str) -> None:
        super().__init__(message_id)
        self.message_id = message_id


@dataclass(frozen=True)
class Period:
    """Copenhagen calendar days `first` to `last`, both included: `[start, end)` in UTC, from local midnight
    to local midnight (23 or 25 hours on the DST Sundays)."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return wall_to_utc(self.first, time(0))

    @property
    def end(self) -> datetime:
        return wall_to_utc(self.last + timedelta(days=1), time(0))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def query(self) -> dict[str, str]:
        """The period as URL arguments (`from`, `to`, ISO dates)."""
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


def make_period(first: date, last: date) -> Period:
    """A period from two dates; refuses one that ends before it starts or is longer than MAX_DAYS."""
    if last < first:
        raise PeriodError("console.reports.error.order")
    if (last - first).days + 1 > MAX_DAYS:
        raise PeriodError("console.reports.error.long")
    return Period(first, last)


def parse_period(raw_from: str | None, raw_to: str | None, now: datetime) -> Period:
    """The period from the form's ISO dates; both missing is the last 30 days."""
    if not raw_from and not raw_to:
        return preset_period(Preset.LAST_30, now)
    try:
        first = date.fromisoformat((raw_from or "").strip())
        last = date.fromisoformat((raw_to or "").strip())
    except ValueError as error:
        raise PeriodError("console.reports.error.date") from error
    return make_period(first, last)


def preset_period(preset: Preset, now: datetime) -> Period:
    """The preset's days, by Copenhagen's calendar at `now`: the last 7 or 30 days end today (included)."""
    today = local_date(now)
    if preset is Preset.LAST_7:
        return Period(today - timedelta(days=6), today)
    if preset is Preset.LAST_30:
        return Period(today - timedelta(days=29), today)
    month_start = today.replace(day=1)
    if preset is Preset.THIS_MONTH:
        return Period(month_start, today)
    previous_end = month_start - timedelta(days=1)
    return Period(previous_end.replace(day=1), previous_end)


def _offset_minutes(instant: datetime) -> int:
    offset = instant.astimezone(COPENHAGEN).utcoffset()
    assert offset is not None
    return int(offset.total_seconds() // 60)


def local_hour_and_weekday(instant: datetime) -> tuple[int, int]:
    """(hour 0-23, ISO weekday 1=Monday..7=Sunday) of `instant` on Copenhagen's clocks: what the SQL buckets
    must agree with."""
    local = require_aware(instant).astimezone(COPENHAGEN)
    return local.hour, local.isoweekday()


@dataclass(frozen=True)
class PercentilePosition:
    """percentile_cont's recipe on n sorted values: the value at `low` (0-based), plus `fraction` of the way to
    the next one."""

    low: int
    fraction: float


def percentile_position(count: int, fraction: float) -> PercentilePosition | None:
    """Where the continuous percentile `fraction` (0..1) of `count` sorted values lies, as PostgreSQL's
    percentile_cont computes it (linear interpolation between the closest ranks); None for no values."""
    if count <= 0:
        return None
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"percentile {fraction} must be between 0 and 1")
    position = fraction * (count - 1)
    low = int(position)
    return PercentilePosition(low, position - low)


def interpolate(position: PercentilePosition, low_value: float, high_value: float | None) -> float:
    """The percentile from the value at `position.low` and the one after it (None when it is the last)."""
    if high_value is None or position.fraction == 0:
        return low_value
    return low_value + (high_value - low_value) * position.fraction


def share(part: int, whole: int) -> float | None:
    """part / whole as a percentage with one decimal, None when there is nothing to divide."""
    return round(100.0 * part / whole, 1) if whole else None


def local_hour_of_utc_hour(utc_hour: int) -> tuple[int, int]:
    """(hour 0-23, ISO weekday) on Copenhagen's clocks of the UTC hour `utc_hour` (hours since 1970-01-01 UTC).

    The database counts calls per UTC hour, which needs no time zone and reads each row once; every instant of a
    UTC hour has the same Copenhagen hour because Copenhagen's offset is a whole number of hours (+1, or +2 in
    summer; whole since 1894), so the buckets are exact, on both DST Sundays too."""
    instant = datetime.fromtimestamp(utc_hour * 3600, UTC)
    if _offset_minutes(instant) % 60:
        raise ValueError(f"Copenhagen's offset at {instant} is not whole hours")
    return local_hour_and_weekday(instant)

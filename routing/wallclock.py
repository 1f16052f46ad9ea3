"""Wall-clock time in Copenhagen: the one place where local times become UTC instants, by fixed DST rules.

The rules (docs/roster.md explains them to managers):

- A wall-clock time that does not exist (02:00-02:59 on the last Sunday of March) means the first instant
  after the gap, 03:00 summer time.
- A wall-clock time that happens twice (02:00-02:59 on the last Sunday of October) means its first occurrence
  (summer time, fold=0), for the start and the end of a shift alike, so shifts that meet there still tile.

Every function here takes and returns aware datetimes; a naive one is refused with ValueError.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")

__all__ = [
    "COPENHAGEN",
    "UTC",
    "is_first_reading",
    "local_date",
    "require_aware",
    "to_utc",
    "wall_interval",
    "wall_to_utc",
]


def require_aware(value: datetime, what: str = "time") -> datetime:
    """Return `value` unchanged, or raise ValueError when it carries no time zone."""
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{what} {value.isoformat()} is a naive datetime; pass an aware one, "
            "e.g. datetime(2026, 12, 24, 18, 0, tzinfo=routing.wallclock.COPENHAGEN)"
        )
    return value


def to_utc(value: datetime, what: str = "time") -> datetime:
    """`value` as a UTC datetime; raises ValueError on a naive datetime."""
    return require_aware(value, what).astimezone(UTC)


def local_date(value: datetime) -> date:
    """The Copenhagen calendar date of the instant `value`."""
    return require_aware(value).astimezone(COPENHAGEN).date()


@lru_cache(maxsize=100_000)
def wall_to_utc(day: date, at: time) -> datetime:
    """The UTC instant when Copenhagen clocks show `at` on `day`, by the gap and repeated-hour rules above."""
    if at.tzinfo is not None:
        raise ValueError(f"wall-clock time {at.isoformat()} must not carry a time zone")
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=COPENHAGEN, fold=0).astimezone(UTC)
    if first.astimezone(COPENHAGEN).replace(tzinfo=None) == naive:
        return first  # exists (the repeated hour reads as its first occurrence: fold=0)
    # In the spring gap: fold=0 reads it with the offset before the change, fold=1 with the offset after. The
    # change itself lies between the two readings; it is the first instant after the gap.
    later = naive.replace(tzinfo=COPENHAGEN, fold=1).astimezone(UTC)
    low, high = min(first, later), max(first, later)
    after = high.astimezone(COPENHAGEN).utcoffset()
    lo_s, hi_s = 0, int((high - low).total_seconds())
    while hi_s - lo_s > 1:  # invariant: offset at low+lo_s is the old one, at low+hi_s the new one
        mid = (lo_s + hi_s) // 2
        if (low + timedelta(seconds=mid)).astimezone(COPENHAGEN).utcoffset() == after:
            hi_s = mid
        else:
            lo_s = mid
    return low + timedelta(seconds=hi_s)


def wall_interval(day: date, start: time, end: time) -> tuple[datetime, datetime] | None:
    """UTC bounds of the local span `start`-`end` beginning on `day`, or None when the span vanishes.

    An end at or before the start is on the next day (22:00-07:00 runs overnight; 07:00-07:00 is 24 hours).
    A span lying wholly in the spring gap (02:00-02:30 on the March Sunday) vanishes: nobody is on call for a
    phantom hour.
    """
    begin = wall_to_utc(day, start)
    finish = wall_to_utc(day + timedelta(days=1) if end <= start else day, end)
    if finish <= begin:
        return None
    return begin, finish


def is_first_reading(value: datetime) -> bool:
    """True when `value` is what its own Copenhagen wall-clock reading maps back to (so writing it as a bare
    local time loses nothing); False for instants in the second pass of the repeated October hour and for
    times that are not whole seconds."""
    local = require_aware(value).astimezone(COPENHAGEN)
    if local.microsecond:
        return False
    return wall_to_utc(local.date(), local.time().replace(fold=0)) == value.astimezone(UTC)

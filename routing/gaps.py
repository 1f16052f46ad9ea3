"""Roster gaps: times within the coverage hours when nobody is on call in the primary or backup layer.

A manager alone does not close a gap: managers are the escalation, not the people who take calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import NamedTuple

from routing.oncall import coverage
from routing.roster import Layer, Roster
from routing.wallclock import COPENHAGEN, local_date, to_utc, wall_interval
from routing.wording.catalogue import da

__all__ = ["CoverageHours", "Gap", "WeeklyWindow", "find_gaps"]

DEFAULT_GAP_LAYERS: tuple[Layer, ...] = (Layer.PRIMARY, Layer.BACKUP)


class Gap(NamedTuple):
    start: datetime
    end: datetime

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def describe(self) -> str:
        """E.g. "2026-10-24 23:00 → 2026-10-25 01:00 (2 t 0 min)" in Copenhagen time."""
        a, z = self.start.astimezone(COPENHAGEN), self.end.astimezone(COPENHAGEN)
        minutes = int(self.duration.total_seconds() // 60)
        duration = da("time.hours_minutes", hours=minutes // 60, minutes=minutes % 60)
        return f"{a:%Y-%m-%d %H:%M %Z} → {z:%Y-%m-%d %H:%M %Z} ({duration})"


@dataclass(frozen=True)
class WeeklyWindow:
    """Local wall-clock hours on some weekdays (0 = Monday); an end at or before the start runs overnight."""

    days: tuple[int, ...]
    start: time
    end: time

    def __post_init__(self) -> None:
        if not self.days or any(d not in range(7) for d in self.days):
            raise ValueError(f"coverage window days {self.days!r} must be weekdays 0-6 (Monday=0)")


@dataclass(frozen=True)
class CoverageHours:
    """When the hotline promises a human. No windows means around the clock (24/7)."""

    windows: tuple[WeeklyWindow, ...] = ()

    def spans(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The promised hours between `start` and `end`, as merged UTC intervals."""
        if not self.windows:
            return [(start, end)] if start < end else []
        found: list[tuple[datetime, datetime]] = []
        day = local_date(start) - timedelta(days=1)  # yesterday's overnight window may reach into `start`
        while day <= local_date(end):
            for w in self.windows:
                span = wall_interval(day, w.start, w.end) if day.weekday() in w.days else None
                if span is not None and span[0] < end and span[1] > start:
                    found.append((max(span[0], start), min(span[1], end)))
            day += timedelta(days=1)
        merged: list[tuple[datetime, datetime]] = []
        for a, z in sorted(found):
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], z))
            else:
                merged.append((a, z))
        return merged


def find_gaps(
    roster: Roster,
    start: datetime,
    end: datetime,
    coverage_hours: CoverageHours | None = None,
    *,
    layers: tuple[Layer, ...] = DEFAULT_GAP_LAYERS,
) -> list[Gap]:
    """Every stretch between `start` and `end` (aware), within `coverage_hours` (default 24/7), when nobody is
    on call in any of `layers` (default primary and backup). Gaps are merged and in time order."""
    start, end = to_utc(start, "start"), to_utc(end, "end")
    holes: list[tuple[datetime, datetime]] = []
    for interval in coverage(roster, start, end):
        if interval.has_layer(*layers):
            continue
        if holes and holes[-1][1] == interval.start:
            holes[-1] = (holes[-1][0], interval.end)
        else:
            holes.append((interval.start, interval.end))
    if not holes:
        return []
    hours = coverage_hours or CoverageHours()
    spans = hours.spans(start, end)
    gaps: list[Gap] = []
    i = j = 0
    while i < len(spans) and j < len(holes):  # both sorted: walk them side by side
        lo, hi = max(spans[i][0], holes[j][0]), min(spans[i][1], holes[j][1])
        if lo < hi:
            if gaps and gaps[-1].end == lo:
                gaps[-1] = Gap(gaps[-1].start, hi)
            else:
                gaps.append(Gap(lo, hi))
        if spans[i][1] <= holes[j][1]:
            i += 1
        else:
            j += 1
    return gaps

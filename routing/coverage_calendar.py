"""The coverage calendar as data: for each local day, who is on call by layer, the gaps, the clock change and
the holiday.

Built on `routing.oncall.coverage` (the same expansion `hotline oncall --at` and the iCal feeds use, overrides
applied) and `routing.gaps.find_gaps`; one pass over the whole range, then each entry and gap is put on every
local day it touches. Pure: no database, no Flask; the console's calendar page renders what this returns.

A shift belongs to the day it starts (as in a roster file); a day also lists the shifts carried over from the
day before (`Slot.carried`), so each day read alone says who is on from midnight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import cast

from routing.gaps import CoverageHours, find_gaps
from routing.oncall import OnCallEntry, Source, coverage
from routing.roster import Layer, Roster
from routing.wallclock import COPENHAGEN, local_date, wall_to_utc

__all__ = [
    "CalendarDay",
    "ClockChange",
    "ClockChangeKind",
    "CoverageCalendar",
    "DayGap",
    "LayerSlots",
    "Slot",
    "build_calendar",
    "cached_calendar",
    "month_range",
    "week_range",
]

LAYERS: tuple[Layer, ...] = (Layer.PRIMARY, Layer.BACKUP, Layer.MANAGER)
MAX_DAYS = 62  # a month view with room; a longer range is a mistake in the caller
_MEMO_KEY = "routing.coverage_calendar"
_MEMO_LIMIT = 64  # weeks and months kept per roster version


def _wall(label: str) -> int:
    return int(label[:2]) * 60 + int(label[3:])


def _minutes(a: datetime, b: datetime) -> int:
    return int((b - a).total_seconds() // 60)


@dataclass(frozen=True)
class Slot:
    """One advisor on call in one layer, as worked after overrides (UTC `start`-`end`), seen from one day.

    `carried`: it started on an earlier day; `continues`: it ends on a later day. `covers` is the id of the
    advisor a replacement stands in for, `covers_name` their name. The override's free-text reason is left out
    on purpose: it can say "syg", and the calendar is read by every advisor.
    """

    advisor_id: str
    name: str
    layer: Layer
    source: Source
    start: datetime
    end: datetime
    carried: bool
    continues: bool
    start_date: str  # the local date it starts, ISO ("2026-03-28"): with `start_label`, a link to the preview
    start_label: str  # local wall-clock "HH:MM"
    end_label: str
    covers: str | None = None
    covers_name: str | None = None
    holiday: str = ""

    @property
    def minutes(self) -> int:
        """How long the whole shift (not only this day's part) lasts, in real minutes."""
        return _minutes(self.start, self.end)

    @property
    def wall_minutes(self) -> int:
        """How long the shift looks on the wall clock (22:00-07:00: 9 hours, whatever the date)."""
        minutes = _wall(self.end_label) - _wall(self.start_label)
        return minutes if minutes > 0 else minutes + 24 * 60

    @property
    def clock_changed(self) -> bool:
        """True when the clocks change during the shift, so it lasts an hour less or more than it reads."""
        return abs(self.minutes - self.wall_minutes) == 60


@dataclass(frozen=True)
class LayerSlots:
    layer: Layer
    slots: tuple[Slot, ...]


@dataclass(frozen=True)
class DayGap:
    """A stretch inside the coverage hours with nobody on call as primary or backup, seen from one day.

    `start_label`/`end_label` are wall-clock times; a side that lies on another day carries its date ("28/3
    22:00"), except an end the next morning of a gap that began this day (22:00-07:00)."""

    start: datetime
    end: datetime
    start_label: str
    end_label: str

    @property
    def minutes(self) -> int:
        return _minutes(self.start, self.end)

    @property
    def start_local(self) -> datetime:
        return self.start.astimezone(COPENHAGEN)


class ClockChangeKind(StrEnum):
    SPRING = "spring"  # the clocks go forward: an hour disappears, the night is an hour shorter
    AUTUMN = "autumn"  # the clocks go back: an hour happens twice, the night is an hour longer


@dataclass(frozen=True)
class ClockChange:
    """The daylight-saving change on a day: at `at` (UTC) the wall clock jumps from `before` to `after`."""

    kind: ClockChangeKind
    at: datetime
    before: str  # "02:00" in March, "03:00" in October
    after: str  # "03:00" in March, "02:00" in October


@dataclass(frozen=True)
class CalendarDay:
    """One local day: `layers` in ring order (primary, backup, manager), each with its slots by start."""

    day: date
    layers: tuple[LayerSlots, ...]
    gaps: tuple[DayGap, ...]
    holiday: str | None
    pattern_weekday: int | None  # the weekday whose shifts run (the holiday rule), when not the day's own
    clock_change: ClockChange | None
    hours: float  # 23 on the spring Sunday, 25 on the autumn one, 24 otherwise

    @property
    def slots(self) -> tuple[Slot, ...]:
        return tuple(s for layer in self.layers for s in layer.slots)

    def layer(self, layer: Layer) -> tuple[Slot, ...]:
        return next((ls.slots for ls in self.layers if ls.layer is layer), ())


@dataclass(frozen=True)
class CoverageCalendar:
    first: date
    last: date  # inclusive
    days: tuple[CalendarDay, ...]

    @property
    def has_gaps(self) -> bool:
        return any(d.gaps for d in self.days)

    @property
    def gap_count(self) -> int:
        """How many gaps the range has (a gap over midnight is shown on both days, counted once)."""
        return len({(g.start, g.end) for d in self.days for g in d.gaps})

    def day(self, day: date) -> CalendarDay:
        return self.days[(day - self.first).days]


def week_range(day: date) -> tuple[date, date]:
    """Monday and Sunday of the week `day` is in."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def month_range(day: date) -> tuple[date, date]:
    """The first and last day of `day`'s month."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def clock_change(day: date) -> ClockChange | None:
    """The daylight-saving change on local `day`, if the clocks change that day."""
    begin, end = wall_to_utc(day, time(0)), wall_to_utc(day + timedelta(days=1), time(0))
    if end - begin == timedelta(days=1):
        return None
    t = begin
    before = t.astimezone(COPENHAGEN).utcoffset()
    while t < end:  # the change falls on a whole hour in Europe; find it hour by hour
        after = (t + timedelta(hours=1)).astimezone(COPENHAGEN).utcoffset()
        if after != before:
            assert before is not None and after is not None
            at = t + timedelta(hours=1)
            kind = ClockChangeKind.SPRING if after > before else ClockChangeKind.AUTUMN
            return ClockChange(kind, at, f"{at + before:%H:%M}", f"{at + after:%H:%M}")
        t += timedelta(hours=1)
    return None  # pragma: no cover - a day of other than 24 hours has a change in it


def _gap_view(start: datetime, end: datetime, day: date) -> DayGap:
    a, z = start.astimezone(COPENHAGEN), end.astimezone(COPENHAGEN)
    start_label = f"{a:%H:%M}" if a.date() == day else f"{a.day}/{a.month} {a:%H:%M}"
    if z.date() == day + timedelta(days=1) and z.time() == time(0):
        end_label = "24:00"
    elif z.date() == day or (a.date() == day and end - start < timedelta(days=1)):
        end_label = f"{z:%H:%M}"  # later today, or tomorrow morning of a gap that began tonight
    else:
        end_label = f"{z.day}/{z.month} {z:%H:%M}"
    return DayGap(start, end, start_label, end_label)


@dataclass(frozen=True)
class _Shown:
    """What a slot shows of an entry on any day; worked out once per entry."""

    entry: OnCallEntry
    first: date  # local day it starts
    last: date  # local day it ends (its last instant)
    start_date: str
    start_label: str
    end_label: str
    covers_name: str | None


def _shown(entry: OnCallEntry, roster: Roster) -> _Shown:
    a, z = entry.start.astimezone(COPENHAGEN), entry.end.astimezone(COPENHAGEN)
    covers_name = None
    if entry.covers is not None and roster.has_advisor(entry.covers):
        covers_name = roster.advisor(entry.covers).name
    return _Shown(
        entry,
        a.date(),
        local_date(entry.end - timedelta(microseconds=1)),
        a.date().isoformat(),
        f"{a:%H:%M}",
        f"{z:%H:%M}",
        covers_name,
    )


def _slot(shown: _Shown, day: date) -> Slot:
    entry = shown.entry
    return Slot(
        advisor_id=entry.advisor.id,
        name=entry.advisor.name,
        layer=entry.layer,
        source=entry.source,
        start=entry.start,
        end=entry.end,
        carried=day > shown.first,
        continues=day < shown.last,
        start_date=shown.start_date,
        start_label=shown.start_label,
        end_label=shown.end_label,
        covers=entry.covers,
        covers_name=shown.covers_name,
        holiday=entry.note if entry.source is Source.HOLIDAY else "",
    )


def build_calendar(
    roster: Roster, first: date, last: date, coverage_hours: CoverageHours | None = None
) -> CoverageCalendar:
    """The calendar of local days `first` to `last` (inclusive): who is on call by layer each day (overrides
    applied), the gaps inside `coverage_hours` (default 24/7), the clock changes and the holidays."""
    if last < first:
        raise ValueError(f"calendar: last day {last} is before first day {first}")
    if (last - first).days >= MAX_DAYS:
        raise ValueError(
            f"calendar: {first} to {last} is more than {MAX_DAYS} days; ask for a week or a month"
        )
    begin, finish = wall_to_utc(first, time(0)), wall_to_utc(last + timedelta(days=1), time(0))
    count = (last - first).days + 1
    found: dict[tuple[str, Layer, datetime], OnCallEntry] = {}
    for interval in coverage(roster, begin, finish):
        for entry in interval.entries:
            found.setdefault((entry.advisor.id, entry.layer, entry.start), entry)
    by_day: list[list[Slot]] = [[] for _ in range(count)]
    for entry in sorted(found.values(), key=lambda e: (e.start, e.advisor.id)):
        shown = _shown(entry, roster)
        for n in range((max(shown.first, first) - first).days, (min(shown.last, last) - first).days + 1):
            by_day[n].append(_slot(shown, first + timedelta(days=n)))
    gaps_by_day: list[list[DayGap]] = [[] for _ in range(count)]
    for gap in find_gaps(roster, begin, finish, coverage_hours):
        a = max(local_date(gap.start), first)
        z = min(local_date(gap.end - timedelta(microseconds=1)), last)
        for n in range((a - first).days, (z - first).days + 1):
            gaps_by_day[n].append(_gap_view(gap.start, gap.end, first + timedelta(days=n)))
    rule = roster.holiday_rule
    days: list[CalendarDay] = []
    for n in range(count):
        day = first + timedelta(days=n)
        layers = tuple(LayerSlots(layer, tuple(s for s in by_day[n] if s.layer is layer)) for layer in LAYERS)
        weekday, changed_by = rule.pattern_day(day)
        hours = (wall_to_utc(day + timedelta(days=1), time(0)) - wall_to_utc(day, time(0))).total_seconds()
        days.append(
            CalendarDay(
                day=day,
                layers=layers,
                gaps=tuple(gaps_by_day[n]),
                holiday=rule.holiday_name(day),
                pattern_weekday=weekday if changed_by is not None and weekday != day.weekday() else None,
                clock_change=clock_change(day),
                hours=hours / 3600,
            )
        )
    return CoverageCalendar(first, last, tuple(days))


def cached_calendar(
    roster: Roster, first: date, last: date, coverage_hours: CoverageHours | None = None
) -> CoverageCalendar:
    """`build_calendar`, kept on the roster (its `memo`, which a new roster version does not share): the pages
    ask for the same weeks again and again, and a roster never changes once built."""
    memo = cast(
        dict[tuple[date, date, CoverageHours | None], CoverageCalendar], roster.memo.setdefault(_MEMO_KEY, {})
    )
    key = (first, last, coverage_hours)
    found = memo.get(key)
    if found is None:
        found = build_calendar(roster, first, last, coverage_hours)
        if len(memo) >= _MEMO_LIMIT:
            memo.clear()
        memo[key] = found
    return found

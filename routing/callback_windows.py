"""Callback windows: the times a relative can choose to be called back, and the real slot each one means now.

A window is plain configuration (config.yaml's `callback_windows`), for example::

    - {key: asap, within_minutes: 60}
    - {key: this_evening, start: "17:00", end: "21:00"}            # day: next (the default)
    - {key: tomorrow_morning, start: "07:00", end: "09:00", day: tomorrow}
    - {key: tomorrow_daytime, start: "09:00", end: "15:00", day: tomorrow}

`resolve_window` turns a window and the moment the relative asks into a `WindowSlot` in UTC. Local times are
Copenhagen wall-clock times converted per date by `routing.wallclock`, the one place local times become UTC,
so callback windows obey the same DST rules as the rosters: a 17:00–21:00 window is four hours on every day,
including both daylight-saving Sundays; a window that contains the changed hour has its real length (01:00–
04:00 is two hours in March and four in October); a time in the skipped March hour means 03:00 summer time,
and a time in the repeated October hour means its first occurrence.

`QuietHours` (config.yaml's `callbacks.quiet_hours`, 21:30-07:00 as shipped) is the night nobody is called back
about a question unless they chose to be: `resolve_window(..., quiet=...)` moves a slot out of it. The caller of
`resolve_window` decides when it applies (not to acute callbacks, not to a window the relative picked).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from routing.wallclock import COPENHAGEN, to_utc, wall_interval

# Until this local time a relative's "today" is still yesterday: "i morgen tidlig" said at 00:30 means the
# morning a few hours away, not the one after. People awake at 04:30 asking for "tomorrow" mean the same.
DAY_ROLLOVER = time(5, 0)

# A window with less than this left is skipped for its next occurrence: promising "this evening" at 20:50
# for a window closing at 21:00 is a promise nobody can keep.
MIN_REMAINING = timedelta(minutes=30)

DAYS = ("next", "tomorrow")


@dataclass(frozen=True)
class WindowSpec:
    """One callback window as configured.

    - `key`: the stable name the IVR and texts refer to ("this_evening").
    - `start`, `end`: local wall-clock times; `end` at or before `start` means the window runs past
      midnight into the next date (22:00–07:00). Both absent means "as soon as possible".
    - `day`: "next" is the next occurrence that has not closed yet (today's if still open, else the
      next day's); "tomorrow" is the day after the relative's today, where today lasts until
      `DAY_ROLLOVER` (05:00) the following night. There is deliberately no "today": a same-day window
      asked for after it closed has no meaning except the next one, which is "next".
    - `within_minutes`: for "as soon as possible" only, how long the first slot lasts.
    """

    key: str
    start: time | None = None
    end: time | None = None
    day: str = "next"
    within_minutes: int | None = None

    def __post_init__(self) -> None:
        where = f"callback window {self.key!r}"
        if not self.key:
            raise ValueError("callback window: key must be a non-empty name such as 'this_evening'")
        if (self.start is None) != (self.end is None):
            raise ValueError(f"{where}: give both start and end (HH:MM), or neither for as-soon-as-possible")
        if self.day not in DAYS:
            raise ValueError(f"{where}: day must be one of {', '.join(DAYS)}, not {self.day!r}")
        if self.start is None:
            if self.within_minutes is None or self.within_minutes <= 0:
                raise ValueError(f"{where}: as-soon-as-possible needs within_minutes > 0")
        else:
            if self.within_minutes is not None:
                raise ValueError(f"{where}: within_minutes is only for windows without start and end")
            if self.start == self.end:
                raise ValueError(
                    f"{where}: start and end are both {self.start:%H:%M}; a window needs a length"
                )

    @property
    def asap(self) -> bool:
        """True for the "as soon as possible" window."""
        return self.start is None


@dataclass(frozen=True)
class QuietHours:
    """The local hours (`start` until `end`, usually across midnight) in which no question is called back
    unless the relative chose that time. Converted per date by `routing.wallclock`, so the night of a DST
    Sunday is an hour shorter (March) or longer (October) in real time, and still ends at 07:00 on the clock."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError(
                f"quiet hours: start and end are both {self.start:%H:%M}; give a span such as 21:30-07:00"
            )

    def spans(self, begin: datetime, finish: datetime) -> list[tuple[datetime, datetime]]:
        """The quiet spans (UTC, in order) that overlap `begin`-`finish`."""
        begin, finish = to_utc(begin, "begin"), to_utc(finish, "finish")
        first = begin.astimezone(COPENHAGEN).date() - timedelta(days=1)
        last = finish.astimezone(COPENHAGEN).date()
        found = []
        for offset in range((last - first).days + 1):
            span = wall_interval(first + timedelta(days=offset), self.start, self.end)
            if span is not None and span[0] < finish and span[1] > begin:
                found.append(span)
        return found

    def contains(self, instant: datetime) -> bool:
        """True when `instant` lies inside the quiet hours (start inclusive, end exclusive)."""
        moment = to_utc(instant, "instant")
        return bool(self.spans(moment, moment + timedelta(microseconds=1)))

    def humane(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The parts of `start`-`end` outside the quiet hours, in order."""
        start, end = to_utc(start, "start"), to_utc(end, "end")
        parts, cursor = [], start
        for quiet_start, quiet_end in self.spans(start, end):
            if quiet_start > cursor:
                parts.append((cursor, min(quiet_start, end)))
            cursor = max(cursor, quiet_end)
        if cursor < end:
            parts.append((cursor, end))
        return parts

    def end_after(self, instant: datetime) -> datetime:
        """When the quiet hours around `instant` end (`instant` itself when it is not inside them)."""
        moment = to_utc(instant, "instant")
        for _ in range(3):  # quiet spans may touch (21:30-21:30 is refused, but 00:00-23:59 nearly does)
            spans = self.spans(moment, moment + timedelta(microseconds=1))
            if not spans:
                return moment
            moment = max(end for _, end in spans)
        return moment


@dataclass(frozen=True)
class WindowSlot:
    """A concrete window in UTC: call the relative from `start_utc` until `end_utc`.

    `start_utc` is never earlier than the moment the window was resolved: a relative who asks for
    "this evening" at 18:30 can be called from 18:30, not from 17:00.
    """

    start_utc: datetime
    end_utc: datetime
    key: str
    asap: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "start_utc", to_utc(self.start_utc, "start_utc"))
        object.__setattr__(self, "end_utc", to_utc(self.end_utc, "end_utc"))
        if self.end_utc <= self.start_utc:
            raise ValueError(f"window slot {self.key!r} ends at or before it starts")

    @property
    def length(self) -> timedelta:
        """How long the slot really lasts (across a DST change this differs from the wall-clock span)."""
        return self.end_utc - self.start_utc

    def contains(self, instant: datetime) -> bool:
        """True when `instant` lies inside the slot (start inclusive, end exclusive)."""
        moment = to_utc(instant, "instant")
        return self.start_utc <= moment < self.end_utc


def resolve_window(
    spec: WindowSpec,
    now_utc: datetime,
    *,
    min_remaining: timedelta = MIN_REMAINING,
    quiet: QuietHours | None = None,
) -> WindowSlot:
    """The slot `spec` means when a relative asks for it at `now_utc`.

    - as soon as possible: now until now + `within_minutes`.
    - day "next": the first occurrence, starting from yesterday's (a window across midnight may still be
      open), that has at least `min_remaining` left; "this evening 17–21" asked at 22:30 is tomorrow evening,
      asked at 00:30 it is the evening of that same date.
    - day "tomorrow": the occurrence on the day after the relative's today (see `DAY_ROLLOVER`):
      "tomorrow morning 07–09" asked at 00:30 on Tuesday is Tuesday 07–09; asked at 05:00 or later on
      Tuesday it is Wednesday 07–09.

    With `quiet`, the slot is the first part of these outside the quiet hours with at least `min_remaining`
    left: "as soon as possible" asked at 22:44 (quiet 21:30-07:00) is 07:00 until 07:00 + `within_minutes`;
    asked at 20:00 with 60 minutes it is 20:00-21:00; asked at 21:10 it is tomorrow from 07:00.
    """
    now = to_utc(now_utc, "now_utc")
    if spec.asap:
        assert spec.within_minutes is not None  # WindowSpec guarantees it
        within = timedelta(minutes=spec.within_minutes)
        if quiet is None:
            return WindowSlot(now, now + within, spec.key, asap=True)
        start = quiet.end_after(now)
        for _ in range(4):
            parts = quiet.humane(start, start + within)
            if parts and parts[0][1] - parts[0][0] >= min(min_remaining, within):
                return WindowSlot(parts[0][0], parts[0][1], spec.key, asap=True)
            start = quiet.end_after(parts[0][1] if parts else start)
        raise ValueError(f"callback window {spec.key!r}: the quiet hours leave no time to call back")
    assert spec.start is not None and spec.end is not None

    local_now = now.astimezone(COPENHAGEN)
    if spec.day == "tomorrow":
        relative_today = (
            local_now.date() if local_now.time() >= DAY_ROLLOVER else local_now.date() - timedelta(1)
        )
        first = relative_today + timedelta(days=1)
    else:
        first = local_now.date() - timedelta(days=1)

    # A handful of dates always suffices; the loop only skips past occurrences, and one that the March
    # change has emptied (a window wholly inside the skipped hour vanishes, as a shift does).
    for offset in range(4):
        span = wall_interval(first + timedelta(days=offset), spec.start, spec.end)
        if span is None:
            continue
        parts = quiet.humane(*span) if quiet is not None else [span]
        for part_start, part_end in parts:
            start, end = max(part_start, now), part_end
            if end - start >= min_remaining:
                return WindowSlot(start, end, spec.key)
    # Only a window shorter than min_remaining (or one the quiet hours cover) gets here: it could never be offered.
    if quiet is not None:
        raise ValueError(
            f"callback window {spec.key!r} ({spec.start:%H:%M}-{spec.end:%H:%M}) lies inside the quiet hours "
            f"({quiet.start:%H:%M}-{quiet.end:%H:%M}); only a relative who picks it can be called in it"
        )
    raise ValueError(
        f"callback window {spec.key!r} ({spec.start:%H:%M}-{spec.end:%H:%M}) is shorter than "
        f"{math.ceil(min_remaining.total_seconds() / 60)} minutes and can never be offered"
    )

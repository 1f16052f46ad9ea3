"""Who is on call: at one instant (`oncall_at`) and as a sequence of intervals over a range (`coverage`).

How overrides combine with the weekly pattern (docs/roster.md says the same in plain words):

1. Each local day's shifts come from its weekday's pattern, or from the holiday rule's weekday on a holiday.
2. A replacement puts its advisor in the replaced advisor's place, for the part of the shift in its window.
3. An extra shift adds its advisor in its layer for its window.
4. Time off wins: an advisor who is off is on call nowhere, not even as cover or on an extra shift.
   Someone replacing them still works their shift.
5. Inactive advisors are never on call; cover for an inactive advisor still counts.

Lookups are indexed: each local day is resolved once into a sorted timeline (cached on the roster), and
overrides are found by bisection, so asking about one instant never scans the whole roster.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import cast

from routing.roster import Advisor, Layer, Override, OverrideKind, Roster, WeeklyShift
from routing.wallclock import local_date, to_utc, wall_to_utc

__all__ = ["CoverageInterval", "OnCallEntry", "Source", "coverage", "oncall_at"]

_MEMO_KEY = "routing.oncall.index"
_CACHE_LIMIT = 5000  # local days kept per roster; a day costs a few kilobytes


class Source(StrEnum):
    PATTERN = "pattern"  # the weekly pattern
    HOLIDAY = "holiday"  # the weekly pattern, through the holiday rule
    OVERRIDE = "override"  # a replacement or an extra shift


_SOURCE_ORDER = {Source.PATTERN: 0, Source.HOLIDAY: 1, Source.OVERRIDE: 2}


@dataclass(frozen=True)
class OnCallEntry:
    """One advisor on call in one layer, from `start` to `end` (UTC) as far as the roster decides.

    For a pattern shift cut short by an override, `start`/`end` are the part the advisor actually works.
    `note` is the holiday's name or the override's reason; `covers` is whom a replacement stands in for.
    """

    advisor: Advisor
    layer: Layer
    source: Source
    start: datetime
    end: datetime
    note: str = ""
    covers: str | None = None
    override: Override | None = None

    def sort_key(self) -> tuple[int, str, int, datetime]:
        return (self.layer.rank, self.advisor.id, _SOURCE_ORDER[self.source], self.start)


@dataclass(frozen=True)
class CoverageInterval:
    """A stretch of time during which the same entries are on call (`entries` may be empty: nobody)."""

    start: datetime
    end: datetime
    entries: tuple[OnCallEntry, ...]

    def has_layer(self, *layers: Layer) -> bool:
        return any(e.layer in layers for e in self.entries)


def oncall_at(roster: Roster, t: datetime) -> list[OnCallEntry]:
    """Everyone on call at instant `t` (aware), ordered by layer then advisor id, one entry per advisor and
    layer. Raises ValueError for a naive `t`."""
    t = to_utc(t, "t")
    day = _index(roster).day(local_date(t))
    return list(day.actives[bisect_right(day.bounds, t) - 1])


def coverage(roster: Roster, start: datetime, end: datetime) -> list[CoverageInterval]:
    """Consecutive intervals from `start` to `end` (aware) with who is on call in each, merged where nothing
    changes. Intervals with nobody on call are included with empty `entries`."""
    start, end = to_utc(start, "start"), to_utc(end, "end")
    if end < start:
        raise ValueError(f"coverage: end {end.isoformat()} is before start {start.isoformat()}")
    index = _index(roster)
    out: list[CoverageInterval] = []
    day_date = local_date(start)
    while start < end:
        day = index.day(day_date)
        first = max(bisect_right(day.bounds, start) - 1, 0)
        for i in range(first, len(day.actives)):
            a, z = max(day.bounds[i], start), min(day.bounds[i + 1], end)
            if a >= z:
                continue
            entries = day.actives[i]
            if out and out[-1].end == a and out[-1].entries == entries:
                out[-1] = CoverageInterval(out[-1].start, z, entries)
            else:
                out.append(CoverageInterval(a, z, entries))
        if day.bounds[-1] >= end:
            break
        day_date += timedelta(days=1)
    return out


# --- the index ----------------------------------------------------------------------------------------------


def _index(roster: Roster) -> _Index:
    found = roster.memo.get(_MEMO_KEY)
    if found is None:
        found = roster.memo[_MEMO_KEY] = _Index(roster)
    return cast(_Index, found)


class _Intervals:
    """Merged, sorted, non-overlapping [start, end) intervals, searched by bisection."""

    def __init__(self, pairs: list[tuple[datetime, datetime]]) -> None:
        merged: list[list[datetime]] = []
        for s, e in sorted(pairs):
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        self.starts = [m[0] for m in merged]
        self.ends = [m[1] for m in merged]

    def contains(self, t: datetime) -> bool:
        i = bisect_right(self.starts, t) - 1
        return i >= 0 and t < self.ends[i]

    def cuts_within(self, a: datetime, b: datetime) -> list[datetime]:
        """Interval starts and ends strictly between a and b."""
        cuts: list[datetime] = []
        i = bisect_right(self.ends, a)
        while i < len(self.starts) and self.starts[i] < b:
            cuts += [x for x in (self.starts[i], self.ends[i]) if a < x < b]
            i += 1
        return cuts


@dataclass(frozen=True)
class _Day:
    """A local day as a timeline: `actives[i]` are on call from `bounds[i]` to `bounds[i + 1]`."""

    bounds: list[datetime]
    actives: list[tuple[OnCallEntry, ...]]


class _Index:
    def __init__(self, roster: Roster) -> None:
        self.roster = roster
        self.by_weekday: list[list[WeeklyShift]] = [[] for _ in range(7)]
        for shift in roster.shifts:
            for d in shift.days:
                self.by_weekday[d].append(shift)
        offs: dict[str, list[tuple[datetime, datetime]]] = {}
        self.replacements: dict[str, list[Override]] = {}
        adds: list[Override] = []
        for o in roster.overrides:
            if o.kind is OverrideKind.OFF:
                offs.setdefault(o.advisor_id, []).append((o.start, o.end))
            elif o.kind is OverrideKind.REPLACE and o.replaces is not None:
                self.replacements.setdefault(o.replaces, []).append(o)
            else:
                adds.append(o)
        self.off = {a: _Intervals(pairs) for a, pairs in offs.items()}
        for reps in self.replacements.values():
            reps.sort(key=lambda o: o.start)
        self.replacement_starts = {a: [o.start for o in reps] for a, reps in self.replacements.items()}
        self.longest_replacement = {
            a: max(o.end - o.start for o in reps) for a, reps in self.replacements.items()
        }
        self.extras_by_day: dict[date, list[OnCallEntry]] = {}
        for o in adds:
            assert o.layer is not None
            for entry in self._pieces(
                o.advisor_id, o.layer, o.start, o.end, Source.OVERRIDE, o.reason, [], o
            ):
                day, last = local_date(entry.start), local_date(entry.end - timedelta(microseconds=1))
                while day <= last:
                    self.extras_by_day.setdefault(day, []).append(entry)
                    day += timedelta(days=1)
        self.occurrences: dict[date, list[OnCallEntry]] = {}
        self.days: dict[date, _Day] = {}

    def _is_off(self, advisor_id: str, t: datetime) -> bool:
        offs = self.off.get(advisor_id)
        return offs is not None and offs.contains(t)

    def _replacements_during(self, advisor_id: str, layer: Layer, s: datetime, e: datetime) -> list[Override]:
        reps = self.replacements.get(advisor_id)
        if not reps:
            return []
        starts = self.replacement_starts[advisor_id]
        lo = bisect_left(starts, s - self.longest_replacement[advisor_id])
        hi = bisect_left(starts, e)
        return [o for o in reps[lo:hi] if o.end > s and (o.layer is None or o.layer == layer)]

    def _pieces(
        self,
        advisor_id: str,
        layer: Layer,
        s: datetime,
        e: datetime,
        source: Source,
        note: str,
        reps: list[Override],
        override: Override | None = None,
    ) -> list[OnCallEntry]:
        """Resolve `advisor_id`'s span [s, e) against time off and the replacements `reps`."""
        offs = self.off.get(advisor_id)
        if not reps and (offs is None or (not offs.contains(s) and not offs.cuts_within(s, e))):
            advisor = self.roster.advisor(advisor_id)  # the common case: nothing touches this shift
            return (
                [OnCallEntry(advisor, layer, source, s, e, note, override=override)] if advisor.active else []
            )
        cuts = {s, e}
        if offs is not None:
            cuts.update(offs.cuts_within(s, e))
        for r in reps:
            cuts.update(x for x in (r.start, r.end) if s < x < e)
            stand_in = self.off.get(r.advisor_id)
            if stand_in is not None:
                cuts.update(stand_in.cuts_within(max(s, r.start), min(e, r.end)))
        points = sorted(cuts)
        pieces: list[tuple[datetime, datetime, str | None, Override | None]] = []
        for a, b in pairwise(points):
            who: str | None = advisor_id
            via = override
            rep = next((x for x in reps if x.covers(a)), None)
            if rep is not None:  # cover works the shift even while the advisor it replaces is off
                who = None if self._is_off(rep.advisor_id, a) else rep.advisor_id
                via = rep
            elif offs is not None and offs.contains(a):
                who = None
            if pieces and pieces[-1][1] == a and pieces[-1][2] == who and pieces[-1][3] is via:
                pieces[-1] = (pieces[-1][0], b, who, via)
            else:
                pieces.append((a, b, who, via))
        out: list[OnCallEntry] = []
        for a, b, who, via in pieces:
            if who is None:
                continue
            advisor = self.roster.advisor(who)
            if not advisor.active:
                continue
            if who == advisor_id:
                out.append(OnCallEntry(advisor, layer, source, a, b, note, override=via))
            else:
                assert via is not None
                out.append(OnCallEntry(advisor, layer, Source.OVERRIDE, a, b, via.reason, advisor_id, via))
        return out

    def occurrences_on(self, day: date) -> list[OnCallEntry]:
        """Resolved entries of the pattern shifts that start on local `day`."""
        found = self.occurrences.get(day)
        if found is not None:
            return found
        weekday, holiday = self.roster.holiday_rule.pattern_day(day)
        source = Source.PATTERN if holiday is None else Source.HOLIDAY
        out: list[OnCallEntry] = []
        for shift in self.by_weekday[weekday]:
            span = shift.occurrence(day)
            if span is None:
                continue
            s, e = span
            reps = self._replacements_during(shift.advisor_id, shift.layer, s, e)
            out += self._pieces(shift.advisor_id, shift.layer, s, e, source, holiday or "", reps)
        if len(self.occurrences) >= _CACHE_LIMIT:
            self.occurrences.clear()
        self.occurrences[day] = out
        return out

    def day(self, day: date) -> _Day:
        found = self.days.get(day)
        if found is not None:
            return found
        w0, w1 = wall_to_utc(day, time(0)), wall_to_utc(day + timedelta(days=1), time(0))
        segments = [
            x
            for x in self.occurrences_on(day - timedelta(days=1)) + self.occurrences_on(day)
            if x.start < w1 and x.end > w0
        ]
        segments += self.extras_by_day.get(day, [])
        bounds = sorted({w0, w1, *(x for seg in segments for x in (seg.start, seg.end) if w0 < x < w1)})
        # Sweep the boundaries in time order; each snapshot lists the live segments in output order (layer,
        # advisor, source), keeping one per advisor and layer.
        order = {id(seg): n for n, seg in enumerate(sorted(segments, key=OnCallEntry.sort_key))}
        segments.sort(key=lambda seg: seg.start)
        actives: list[tuple[OnCallEntry, ...]] = []
        live: list[OnCallEntry] = []
        pos = 0
        for b in bounds[:-1]:
            while pos < len(segments) and segments[pos].start <= b:
                live.append(segments[pos])
                pos += 1
            live = [seg for seg in live if seg.end > b]
            live.sort(key=lambda seg: order[id(seg)])
            seen: set[tuple[str, Layer]] = set()
            snapshot: list[OnCallEntry] = []
            for seg in live:
                if (seg.advisor.id, seg.layer) not in seen:
                    seen.add((seg.advisor.id, seg.layer))
                    snapshot.append(seg)
            actives.append(tuple(snapshot))
        result = _Day(bounds, actives)
        if len(self.days) >= _CACHE_LIMIT:
            self.days.clear()
        self.days[day] = result
        return result

"""What a roster change changes: whose on-call time appears or disappears, by layer and local day, computed by
comparing the on-call coverage (`routing.oncall.coverage`) of the roster before and after.

Comparing coverage rather than the files' lines means every rule counts: an `off` that cuts a night in two, a
holiday that borrows Sunday's pattern, an inactive advisor. It is what the console's preview shows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from routing.oncall import coverage
from routing.roster import Layer, Roster
from routing.wallclock import local_date, to_utc, wall_to_utc

__all__ = [
    "DayChanges",
    "ShiftChange",
    "Span",
    "changes",
    "on_call_spans",
    "period",
    "subtract",
    "summary",
]

Span = tuple[datetime, datetime]


def period(now: datetime, days: int = 14) -> Span:
    """From local midnight of `now`'s day to local midnight `days` days later (UTC instants)."""
    first = local_date(now)
    return wall_to_utc(first, time(0)), wall_to_utc(first + timedelta(days=days), time(0))


def on_call_spans(roster: Roster, start: datetime, end: datetime) -> dict[tuple[Layer, str], list[Span]]:
    """Each advisor's time on call between `start` and `end`, by (layer, advisor id), as merged UTC spans."""
    found: dict[tuple[Layer, str], list[Span]] = {}
    for interval in coverage(roster, start, end):
        for entry in interval.entries:
            spans = found.setdefault((entry.layer, entry.advisor.id), [])
            if spans and spans[-1][1] == interval.start:
                spans[-1] = (spans[-1][0], interval.end)
            else:
                spans.append((interval.start, interval.end))
    return found


def subtract(spans: list[Span], minus: list[Span]) -> list[Span]:
    """The parts of sorted, disjoint `spans` not inside any of sorted, disjoint `minus`."""
    out: list[Span] = []
    j = 0
    for a, z in spans:
        while j < len(minus) and minus[j][1] <= a:
            j += 1
        k = j
        cursor = a
        while k < len(minus) and minus[k][0] < z:
            if minus[k][0] > cursor:
                out.append((cursor, minus[k][0]))
            cursor = max(cursor, minus[k][1])
            k += 1
        if cursor < z:
            out.append((cursor, z))
    return out


@dataclass(frozen=True)
class ShiftChange:
    """`advisor_id` is on call in `layer` from `start` to `end` after the change and was not before
    (`appeared`), or the other way round."""

    layer: Layer
    advisor_id: str
    advisor_name: str
    start: datetime
    end: datetime
    appeared: bool


@dataclass(frozen=True)
class DayChanges:
    day: date  # the local day the changed time starts on
    changes: tuple[ShiftChange, ...]


def changes(before: Roster, after: Roster, start: datetime, end: datetime) -> list[DayChanges]:
    """The days between `start` and `end` on which on-call time appears or disappears, in order; days without
    a change are left out."""
    start, end = to_utc(start, "start"), to_utc(end, "end")
    old, new = on_call_spans(before, start, end), on_call_spans(after, start, end)
    found: list[ShiftChange] = []
    for key in set(old) | set(new):
        layer, advisor_id = key
        name = _name(after, advisor_id) or _name(before, advisor_id) or advisor_id
        for a, z in subtract(new.get(key, []), old.get(key, [])):
            found.append(ShiftChange(layer, advisor_id, name, a, z, True))
        for a, z in subtract(old.get(key, []), new.get(key, [])):
            found.append(ShiftChange(layer, advisor_id, name, a, z, False))
    found.sort(key=lambda c: (c.start, c.layer.rank, c.appeared, c.advisor_id))
    days: dict[date, list[ShiftChange]] = {}
    for change in found:
        days.setdefault(local_date(change.start), []).append(change)
    return [DayChanges(day, tuple(items)) for day, items in sorted(days.items())]


def _name(roster: Roster, advisor_id: str) -> str | None:
    return roster.advisor(advisor_id).name if roster.has_advisor(advisor_id) else None


def summary(before: Roster | None, after: Roster) -> str:
    """A short account of the change for the audit log: "advisors +1 ~1 -0; shifts +2 -1; overrides +1 -0"."""
    old_advisors = {a.id: a for a in before.advisors} if before else {}
    new_advisors = {a.id: a for a in after.advisors}
    added = sum(1 for a in new_advisors if a not in old_advisors)
    changed = sum(1 for a, v in new_advisors.items() if a in old_advisors and old_advisors[a] != v)
    removed = sum(1 for a in old_advisors if a not in new_advisors)
    parts = [f"advisors +{added} ~{changed} -{removed}"]
    for name, old_items, new_items in (
        ("shifts", before.shifts if before else (), after.shifts),
        ("overrides", before.overrides if before else (), after.overrides),
    ):
        old_count, new_count = Counter(old_items), Counter(new_items)
        parts.append(
            f"{name} +{sum((new_count - old_count).values())} -{sum((old_count - new_count).values())}"
        )
    if before is not None and before.holiday_rule != after.holiday_rule:
        parts.append("holiday rule changed")
    return "; ".join(parts)

"""A deliberately plain reference for `oncall_at`: scan every weekly shift and every override at one instant.

It shares no code with routing/oncall.py beyond the wall-clock conversion, so the tests can compare the two
(differential testing), and benchmarks/oncall.py times the indexed lookup against it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from routing.oncall import OnCallEntry, Source
from routing.roster import Layer, OverrideKind, Roster
from routing.wallclock import local_date, to_utc


def scan_oncall_at(roster: Roster, t: datetime) -> list[OnCallEntry]:
    """Who is on call at `t`, by the rules in routing/oncall.py, found by scanning everything.

    Entries carry the whole shift or override as start/end (not trimmed by other overrides).
    """
    t = to_utc(t)

    def is_off(advisor_id: str) -> bool:
        return any(
            o.kind is OverrideKind.OFF and o.advisor_id == advisor_id and o.start <= t < o.end
            for o in roster.overrides
        )

    found: list[OnCallEntry] = []
    today = local_date(t)
    for day in (today - timedelta(days=1), today):
        weekday, holiday = roster.holiday_rule.pattern_day(day)
        for shift in roster.shifts:
            if weekday not in shift.days:
                continue
            span = shift.occurrence(day)
            if span is None or not span[0] <= t < span[1]:
                continue
            cover = next(
                (
                    o
                    for o in roster.overrides
                    if o.kind is OverrideKind.REPLACE
                    and o.replaces == shift.advisor_id
                    and o.layer in (None, shift.layer)
                    and o.start <= t < o.end
                ),
                None,
            )
            if cover is not None:
                if not is_off(cover.advisor_id):
                    advisor = roster.advisor(cover.advisor_id)
                    found.append(
                        OnCallEntry(
                            advisor,
                            shift.layer,
                            Source.OVERRIDE,
                            cover.start,
                            cover.end,
                            cover.reason,
                            shift.advisor_id,
                        )
                    )
            elif not is_off(shift.advisor_id):
                source = Source.PATTERN if holiday is None else Source.HOLIDAY
                found.append(
                    OnCallEntry(roster.advisor(shift.advisor_id), shift.layer, source, *span, holiday or "")
                )
    for o in roster.overrides:
        if o.kind is OverrideKind.ADD and o.start <= t < o.end and not is_off(o.advisor_id):
            assert o.layer is not None
            found.append(
                OnCallEntry(roster.advisor(o.advisor_id), o.layer, Source.OVERRIDE, o.start, o.end, o.reason)
            )
    order = {Source.PATTERN: 0, Source.HOLIDAY: 1, Source.OVERRIDE: 2}
    found = [e for e in found if e.advisor.active]
    found.sort(key=lambda e: (e.layer.rank, e.advisor.id, order[e.source]))
    unique: dict[tuple[str, Layer], OnCallEntry] = {}
    for e in found:
        unique.setdefault((e.advisor.id, e.layer), e)
    return list(unique.values())


def keys(entries: list[OnCallEntry]) -> list[tuple[str, str, str]]:
    """What both implementations must agree on: (advisor, layer, source), in order."""
    return [(e.advisor.id, e.layer.value, e.source.value) for e in entries]

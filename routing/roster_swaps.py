"""Shift swaps and "take a shift": which shifts an advisor can offer or take, and the `replace` override an
approved request becomes (judged, like every console change, by the roster file's loader)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from routing.roster import Layer, Roster
from routing.roster_diff import on_call_spans
from routing.roster_edits import OverrideInput
from routing.roster_values import format_local
from routing.wallclock import local_date

__all__ = ["OfferedShift", "RequestKind", "cover_input", "shifts_of"]


class RequestKind(StrEnum):
    SWAP = "swap"  # "swap my shift with <advisor>": the other advisor works the requester's shift
    TAKE = "take"  # "I'll take <advisor>'s shift": the requester works the other advisor's shift


@dataclass(frozen=True)
class OfferedShift:
    """A stretch of on-call time of one advisor in one layer (a shift as the roster resolves it)."""

    advisor_id: str
    layer: Layer
    start: datetime
    end: datetime

    @property
    def key(self) -> str:
        """How a form names it: "kemal|primary|<start unix>|<end unix>"."""
        return (
            f"{self.advisor_id}|{self.layer.value}|{int(self.start.timestamp())}|{int(self.end.timestamp())}"
        )


def shifts_of(
    roster: Roster, advisor_ids: Iterable[str], start: datetime, end: datetime
) -> list[OfferedShift]:
    """The pattern shifts (primary and backup) of `advisor_ids` that start between `start` and `end` and that
    the advisor still works at least in part (not off sick all of it), in time order."""
    wanted = set(advisor_ids)
    layers = (Layer.PRIMARY, Layer.BACKUP)
    spans = on_call_spans(roster, start, end + timedelta(days=2))
    found: list[OfferedShift] = []
    day = local_date(start)
    while day <= local_date(end):
        weekday, _ = roster.holiday_rule.pattern_day(day)
        for shift in roster.shifts:
            if shift.advisor_id not in wanted or shift.layer not in layers or weekday not in shift.days:
                continue
            occurrence = shift.occurrence(day)
            if occurrence is None or not start <= occurrence[0] < end:
                continue
            worked = spans.get((shift.layer, shift.advisor_id), [])
            if any(a < occurrence[1] and z > occurrence[0] for a, z in worked):
                found.append(OfferedShift(shift.advisor_id, shift.layer, *occurrence))
        day += timedelta(days=1)
    return sorted(found, key=lambda s: (s.start, s.layer.rank, s.advisor_id))


def cover_input(shift: OfferedShift, cover_advisor_id: str, reason: str) -> OverrideInput:
    """The override that has `cover_advisor_id` work `shift` (in its layer only)."""
    return OverrideInput(
        kind="replace",
        advisor=cover_advisor_id,
        replaces=shift.advisor_id,
        layer=shift.layer.value,
        start=format_local(shift.start),
        end=format_local(shift.end),
        reason=reason,
    )

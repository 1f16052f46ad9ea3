"""The roster as data: advisors, their weekly shifts by layer, dated overrides and the holiday rule.

Weekly shifts are local Copenhagen wall-clock times; overrides are instants (aware datetimes, kept in UTC).
Everything is immutable, so a `Roster` can be shared between threads and its lookups cached (see `memo`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum

from routing.holiday_rule import DAY_NAMES, HolidayRule
from routing.wallclock import to_utc, wall_interval

__all__ = [
    "Advisor",
    "Layer",
    "Override",
    "OverrideKind",
    "Roster",
    "Team",
    "WeeklyShift",
    "overlapping_replacements",
]

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


class Layer(StrEnum):
    """Who is rung in which order: primary first, then backup, then the manager on escalation."""

    PRIMARY = "primary"
    BACKUP = "backup"
    MANAGER = "manager"

    @property
    def rank(self) -> int:
        return _LAYER_RANK[self]

    @property
    def message_id(self) -> str:
        """The layer's name in the staff catalogue (routing/wording/staff.yaml): "primær (primary)"."""
        return f"layer.{self.value}"


_LAYER_RANK = {Layer.PRIMARY: 0, Layer.BACKUP: 1, Layer.MANAGER: 2}


@dataclass(frozen=True)
class Team:
    id: str
    name: str


@dataclass(frozen=True)
class Advisor:
    """An advisor who can be rung. `phone` is E.164; `languages` are lowercase ISO 639 codes."""

    id: str
    name: str
    phone: str
    languages: tuple[str, ...] = ("da",)
    skills: tuple[str, ...] = ()
    team: str = ""
    active: bool = True

    def __post_init__(self) -> None:
        if not SLUG.match(self.id):
            raise ValueError(f"advisor id {self.id!r} must be a lowercase slug, e.g. 'birgitte-h'")
        if not self.phone.startswith("+"):
            raise ValueError(f"advisor {self.id}: phone {self.phone!r} must be E.164, e.g. '+4568101001'")
        object.__setattr__(self, "languages", tuple(self.languages))
        object.__setattr__(self, "skills", tuple(self.skills))
        for code in self.languages:
            if not LANGUAGE_CODE.match(code):
                raise ValueError(
                    f"advisor {self.id}: language {code!r} must be a lowercase ISO code, e.g. 'ar'"
                )

    def speaks(self, language: str) -> bool:
        return language.lower() in self.languages


@dataclass(frozen=True)
class WeeklyShift:
    """A recurring shift: on each of `days` (0 = Monday), from `start` to `end` local time.

    An `end` at or before `start` runs past midnight and belongs to the day it starts (Friday 22:00-07:00 is
    Friday's night shift); `start == end` is a 24-hour shift.
    """

    advisor_id: str
    layer: Layer
    days: tuple[int, ...]
    start: time
    end: time

    def __post_init__(self) -> None:
        days = tuple(sorted(set(self.days)))
        if not days or any(d not in range(7) for d in days):
            raise ValueError(
                f"shift of {self.advisor_id}: days {self.days!r} must be weekdays 0-6 (Monday=0)"
            )
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError(
                f"shift of {self.advisor_id}: start and end are local wall-clock times, no tzinfo"
            )
        object.__setattr__(self, "days", days)
        object.__setattr__(self, "layer", Layer(self.layer))

    def occurrence(self, day: date) -> tuple[datetime, datetime] | None:
        """UTC bounds of the shift starting on local `day`, None if it does not run that day (or vanishes in
        the spring-forward gap)."""
        return wall_interval(day, self.start, self.end)

    def describe(self) -> str:
        days = ",".join(DAY_NAMES[d] for d in self.days)
        return f"{self.advisor_id} {self.layer} {days} {self.start:%H:%M}-{self.end:%H:%M}"


class OverrideKind(StrEnum):
    REPLACE = "replace"  # `advisor_id` takes `replaces`'s shifts within the window
    OFF = "off"  # `advisor_id` is not on call within the window (sick, holiday), whatever else says so
    ADD = "add"  # `advisor_id` is on call in `layer` within the window, on top of the pattern


@dataclass(frozen=True)
class Override:
    """A dated exception to the weekly pattern, from `start` (inclusive) to `end` (exclusive).

    Use the constructors `Override.replacement`, `Override.absence` and `Override.extra`.
    """

    kind: OverrideKind
    advisor_id: str
    start: datetime
    end: datetime
    replaces: str | None = None
    layer: Layer | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", OverrideKind(self.kind))
        object.__setattr__(self, "start", to_utc(self.start, "override start"))
        object.__setattr__(self, "end", to_utc(self.end, "override end"))
        if self.layer is not None:
            object.__setattr__(self, "layer", Layer(self.layer))
        if self.end <= self.start:
            raise ValueError(
                f"override for {self.advisor_id}: end {self.end} must be after start {self.start}"
            )
        if self.kind is OverrideKind.REPLACE:
            if not self.replaces or self.replaces == self.advisor_id:
                raise ValueError(
                    f"override for {self.advisor_id}: a replacement needs another advisor to replace"
                )
        elif self.replaces is not None:
            raise ValueError(f"override for {self.advisor_id}: only a replacement names `replaces`")
        if self.kind is OverrideKind.ADD and self.layer is None:
            raise ValueError(f"override for {self.advisor_id}: an extra shift needs a layer")
        if self.kind is OverrideKind.OFF and self.layer is not None:
            raise ValueError(
                f"override for {self.advisor_id}: time off applies to every layer; give no layer"
            )

    @classmethod
    def replacement(
        cls,
        advisor_id: str,
        replaces: str,
        start: datetime,
        end: datetime,
        *,
        layer: Layer | None = None,
        reason: str = "cover",
    ) -> Override:
        """`advisor_id` works `replaces`'s shifts (in `layer`, or all layers) between start and end."""
        return cls(
            OverrideKind.REPLACE, advisor_id, start, end, replaces=replaces, layer=layer, reason=reason
        )

    @classmethod
    def absence(cls, advisor_id: str, start: datetime, end: datetime, *, reason: str = "sick") -> Override:
        """`advisor_id` is off between start and end: removed from every layer, including cover shifts."""
        return cls(OverrideKind.OFF, advisor_id, start, end, reason=reason)

    @classmethod
    def extra(
        cls, advisor_id: str, layer: Layer, start: datetime, end: datetime, *, reason: str = "extra"
    ) -> Override:
        """`advisor_id` is on call in `layer` between start and end, in addition to the pattern."""
        return cls(OverrideKind.ADD, advisor_id, start, end, layer=layer, reason=reason)

    def covers(self, t: datetime) -> bool:
        return self.start <= t < self.end


def overlapping_replacements(overrides: tuple[Override, ...]) -> list[tuple[int, int]]:
    """Index pairs of replacements that replace the same advisor in the same layer at the same time.

    Two such overrides would leave it unclear who works the shift, so a roster refuses them.
    """
    found: list[tuple[int, int]] = []
    by_target: dict[str, list[int]] = {}
    for i, o in enumerate(overrides):
        if o.kind is OverrideKind.REPLACE and o.replaces is not None:
            by_target.setdefault(o.replaces, []).append(i)
    for indexes in by_target.values():
        ordered = sorted(indexes, key=lambda i: overrides[i].start)
        for pos, i in enumerate(ordered):
            a = overrides[i]
            for j in ordered[pos + 1 :]:
                b = overrides[j]
                if b.start >= a.end:
                    break
                if a.layer is None or b.layer is None or a.layer == b.layer:
                    found.append((min(i, j), max(i, j)))
    return sorted(found)


@dataclass(frozen=True)
class Roster:
    """Advisors, weekly shifts, overrides and the holiday rule; checked for consistency when built.

    `memo` is a per-roster cache for the on-call index; it takes no part in equality.
    """

    advisors: tuple[Advisor, ...] = ()
    shifts: tuple[WeeklyShift, ...] = ()
    overrides: tuple[Override, ...] = ()
    holiday_rule: HolidayRule = field(default_factory=HolidayRule)
    teams: tuple[Team, ...] = ()
    # init=False: dataclasses.replace() gives the new roster a fresh, empty memo, never the old roster's index.
    memo: dict[str, object] = field(default_factory=dict, init=False, compare=False, repr=False, hash=False)
    _by_id: dict[str, Advisor] = field(init=False, compare=False, repr=False, hash=False)

    def __post_init__(self) -> None:
        for name in ("advisors", "overrides", "teams"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        # Shifts are kept by layer (stable within a layer), the order a roster file lists them in.
        object.__setattr__(self, "shifts", tuple(sorted(self.shifts, key=lambda s: s.layer.rank)))
        problems = self._problems()
        if problems:
            raise ValueError("roster is inconsistent: " + "; ".join(problems))
        object.__setattr__(self, "_by_id", {a.id: a for a in self.advisors})

    def _problems(self) -> list[str]:
        problems: list[str] = []
        ids: set[str] = set()
        for a in self.advisors:
            if a.id in ids:
                problems.append(f"advisor id {a.id!r} appears twice")
            ids.add(a.id)
        team_ids = {t.id for t in self.teams}
        if len(team_ids) != len(self.teams):
            problems.append("a team id appears twice")
        if self.teams:
            problems += [
                f"advisor {a.id}: unknown team {a.team!r}" for a in self.advisors if a.team not in team_ids
            ]
        problems += [f"shift {s.describe()}: unknown advisor" for s in self.shifts if s.advisor_id not in ids]
        for o in self.overrides:
            for ref in (o.advisor_id, o.replaces):
                if ref is not None and ref not in ids:
                    problems.append(f"override {o.kind} {o.advisor_id}: unknown advisor {ref!r}")
        for i, j in overlapping_replacements(self.overrides):
            problems.append(f"overrides {i} and {j} replace {self.overrides[i].replaces} at the same time")
        return problems

    def advisor(self, advisor_id: str) -> Advisor:
        """The advisor with this id; KeyError if there is none."""
        return self._by_id[advisor_id]

    def has_advisor(self, advisor_id: str) -> bool:
        return advisor_id in self._by_id

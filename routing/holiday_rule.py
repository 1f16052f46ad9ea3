"""What the roster does on a Danish public holiday: keep its own pattern or borrow a weekday's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import holidays

from routing.wording.catalogue import da

__all__ = ["DAY_NAMES", "HolidayRule", "danish_holiday"]

# Weekday numbers follow date.weekday(): Monday is 0.
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@lru_cache(maxsize=4)
def _calendar(include_optional: bool) -> holidays.HolidayBase:
    categories = ("public", "optional") if include_optional else ("public",)
    return holidays.country_holidays("DK", language="da", categories=categories)


def danish_holiday(day: date, *, include_optional: bool = False) -> str | None:
    """The Danish name of the public holiday on `day` (e.g. "Juledag"), or None on an ordinary day.

    With `include_optional`, the customary days off count too: Grundlovsdag, Juleaftensdag, Nytårsaften and
    Arbejdernes kampdag.
    """
    name = _calendar(include_optional).get(day)
    return None if name is None else str(name)


@dataclass(frozen=True)
class HolidayRule:
    """Which weekly pattern a holiday uses.

    `use` is the weekday (0 = Monday ... 6 = Sunday) whose shifts run on a holiday, or None for "normal": the
    holiday keeps its own weekday's shifts. `extra_dates` are local closing days treated like holidays.
    """

    use: int | None = 6
    include_optional: bool = False
    extra_dates: tuple[date, ...] = ()

    def __post_init__(self) -> None:
        if self.use is not None and self.use not in range(7):
            raise ValueError(f"HolidayRule.use must be a weekday 0-6 (Monday=0) or None, not {self.use!r}")
        object.__setattr__(self, "extra_dates", tuple(sorted(set(self.extra_dates))))

    @property
    def use_name(self) -> str:
        """ "normal" or the English weekday abbreviation, as written in a roster file."""
        return "normal" if self.use is None else DAY_NAMES[self.use]

    def holiday_name(self, day: date) -> str | None:
        """The name of the holiday (or closing day) on `day`, or None."""
        if day in self.extra_dates:
            return da("roster.closing_day")
        return danish_holiday(day, include_optional=self.include_optional)

    def pattern_day(self, day: date) -> tuple[int, str | None]:
        """The weekday whose shifts start on `day`, and the holiday's name when the rule changed it."""
        if self.use is None:
            return day.weekday(), None
        name = self.holiday_name(day)
        if name is None:
            return day.weekday(), None
        return self.use, name

"""Values in a roster file: reading them from YAML nodes (collecting problems with file:line and a fix) and
writing them back in the same spelling."""

from __future__ import annotations

import difflib
import re
from datetime import date, datetime, time
from functools import cache
from typing import TypeVar

import phonenumbers
import yaml
from babel import Locale

from routing.holiday_rule import DAY_NAMES
from routing.numbers import normalize_number
from routing.roster import LANGUAGE_CODE, SLUG
from routing.wallclock import COPENHAGEN, UTC, is_first_reading, wall_to_utc

__all__ = ["Reader", "format_days", "format_local", "known_languages"]

T = TypeVar("T")

_NULL_TAG = "tag:yaml.org,2002:null"
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_LOCAL_INSTANT = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DAY_WORDS = {
    **{name: i for i, name in enumerate(DAY_NAMES)},
    **{name: i for i, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday"))},
    "saturday": 5,
    "sunday": 6,
    **{name: i for i, name in enumerate(("man", "tir", "ons", "tor", "fre", "lør", "søn"))},
    **{
        name: i
        for i, name in enumerate(("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"))
    },
}
_ALL_DAYS = {"daily", "all", "alle"}
# What to write when a key is missing, shown in the fix.
_EXAMPLES = {
    "id": "birgitte",
    "name": "Birgitte Prøvesen",
    "phone": '"+45 68 10 10 01"',
    "languages": "[da, en]",
    "advisor": "birgitte",
    "days": "mon-fri",
    "start": '"22:00"',
    "end": '"07:00"',
    "from": "2026-12-24 16:00",
    "to": "2026-12-25 08:00",
    "advisors": "a list of advisors",
    "shifts": "primary:, backup: and manager: lists",
}


class Reader:
    """Reads typed values out of composed YAML nodes, noting every problem rather than stopping at one."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.problems: list[str] = []
        self._lines: list[int] = []

    def line(self, node: yaml.Node) -> int:
        return int(node.start_mark.line) + 1

    def error_at(self, line: int, message: str) -> None:
        self.problems.append(f"{self.filename}:{line}: {message}")
        self._lines.append(line)

    def error(self, node: yaml.Node | None, message: str) -> None:
        # Values are only checked when present, so `node` is None only if a caller slipped: say line 1.
        self.error_at(1 if node is None else self.line(node), message)

    def sorted_problems(self) -> list[str]:
        return [p for _, p in sorted(zip(self._lines, self.problems, strict=True), key=lambda pair: pair[0])]

    def is_null(self, node: yaml.Node) -> bool:
        return isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG

    def mapping(self, node: yaml.Node, where: str, keys: dict[str, bool]) -> dict[str, yaml.Node] | None:
        """The keys of a mapping node; `keys` maps each allowed key to whether it is required."""
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"{where} must be a mapping of key: value lines; found {_kind(node)}")
            return None
        found: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in found:
                self.error(key_node, f"{where} has {key}: twice; keep one")
            elif key not in keys:
                close = difflib.get_close_matches(key, list(keys), n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(keys)}"
                self.error(key_node, f"{where} has unknown key '{key}'; {hint}")
            else:
                found[key] = value_node
        for key, required in keys.items():
            if required and key not in found:
                example = _EXAMPLES.get(key, "a value")
                self.error(node, f"{where} has no {key}:; add {key}: {example}")
        return found

    def sequence(self, node: yaml.Node | None, where: str) -> list[yaml.Node]:
        if node is None or self.is_null(node):
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, f"{where} must be a list (lines starting with '- '); found {_kind(node)}")
            return []
        return list(node.value)

    def text(self, node: yaml.Node | None, where: str, *, allow_empty: bool = False) -> str | None:
        """A scalar as written; None (already reported) when the key is missing or the value is no scalar."""
        if node is None:
            return None
        if not isinstance(node, yaml.ScalarNode) or (self.is_null(node) and not allow_empty):
            self.error(node, f"{where} must be a single value; found {_kind(node)}")
            return None
        value = "" if self.is_null(node) else str(node.value).strip()
        if not value and not allow_empty:
            self.error(node, f"{where} is empty; write a value")
            return None
        return value

    def slug(self, node: yaml.Node | None, where: str) -> str | None:
        value = self.text(node, where)
        if value is not None and not SLUG.match(value):
            fix = re.sub(r"[^a-z0-9_-]+", "-", value.lower()).strip("-") or "birgitte"
            self.error(
                node, f"{where} '{value}' is not a valid id; use lowercase letters, digits and -, e.g. {fix}"
            )
            return None
        return value

    def choice(
        self, node: yaml.Node | None, where: str, choices: dict[str, T], default: T | None = None
    ) -> T | None:
        value = self.text(node, where)
        if value is None:
            return default
        if value.lower() not in choices:
            self.error(node, f"{where} '{value}' is not allowed; write one of: {', '.join(choices)}")
            return default
        return choices[value.lower()]

    def holiday_pattern(self, node: yaml.Node | None, where: str) -> int | None:
        """A weekday (`sunday`, `sun`, `søndag`) or `normal` (None)."""
        value = self.text(node, where)
        if value is None or value.lower() == "normal":
            return None
        if value.lower() not in _DAY_WORDS:
            self.error(
                node,
                f"{where} '{value}' is not a weekday; write e.g. sunday (or normal to keep the day's own)",
            )
            return None
        return _DAY_WORDS[value.lower()]

    def boolean(self, node: yaml.Node | None, where: str) -> bool | None:
        return self.choice(node, where, {"true": True, "false": False})

    def date(self, node: yaml.Node | None, where: str) -> date | None:
        value = self.text(node, where)
        if value is None:
            return None
        try:
            if not _DATE.match(value):
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            self.error(node, f"{where} '{value}' is not a date; write YYYY-MM-DD, e.g. 2026-12-24")
            return None

    def phone(self, node: yaml.Node | None, where: str) -> str | None:
        value = self.text(node, where)
        if value is None:
            return None
        e164 = normalize_number(value)
        if e164 is None or not phonenumbers.is_valid_number(phonenumbers.parse(e164)):
            self.error(
                node, f"{where} '{value}' is not a valid phone number; write it like \"+45 68 10 10 01\""
            )
            return None
        return e164

    def codes(self, node: yaml.Node | None, where: str, *, language: bool) -> list[str]:
        """A list of lowercase codes (languages: ISO 639 like 'ar'; skills: slugs like 'mental_health')."""
        if node is None:
            return []
        items = (
            [node]
            if isinstance(node, yaml.ScalarNode) and not self.is_null(node)
            else self.sequence(node, where)
        )
        codes: list[str] = []
        for i, item in enumerate(items):
            value = self.text(item, f"{where}[{i}]")
            if value is None:
                continue
            pattern = LANGUAGE_CODE if language else SLUG
            if not pattern.match(value):
                what = "a language code" if language else "a skill"
                fix = (
                    "a lowercase ISO 639 code, e.g. ar"
                    if language
                    else "lowercase words joined by _, e.g. dementia"
                )
                if pattern.match(value.lower()):
                    fix = f"'{value.lower()}' (lowercase)"
                self.error(item, f"{where}[{i}] '{value}' is not {what}; write {fix}")
                continue
            if language and value not in known_languages():
                self.error(
                    item,
                    f"{where}[{i}] '{value}' is not a known language code; write an ISO 639 code, e.g. ar",
                )
                continue
            codes.append(value)
        if language and not items:
            self.error(node, f"{where} is empty; list the languages the advisor speaks, e.g. [da, en]")
        return codes

    def days(self, node: yaml.Node | None, where: str) -> list[int]:
        """Weekdays from `mon-fri`, `[sat, sun]`, `daily`, or Danish names (`man`, `lørdag`)."""
        if node is None:
            return []
        tokens: list[tuple[str, yaml.Node]]
        if isinstance(node, yaml.ScalarNode) and not self.is_null(node):
            tokens = [(t.strip(), node) for t in str(node.value).split(",")]
        else:
            tokens = [(str(item.value).strip(), item) for item in self.sequence(node, where)]
        days: set[int] = set()
        for token, item in tokens:
            found = _parse_days(token.lower())
            if found is None:
                self.error(
                    item,
                    f"{where} '{token}' is not a weekday; write mon, tue, wed, thu, fri, sat, sun, a range "
                    "like mon-fri, or daily",
                )
                return []
            days |= found
        if not days and not tokens:
            self.error(node, f"{where} is empty; write e.g. days: mon-fri")
        return sorted(days)

    def clock(self, node: yaml.Node | None, where: str, *, allow_24: bool) -> time | None:
        value = self.text(node, where)
        if value is None:
            return None
        match = _CLOCK.match(value)
        hour, minute = (int(match[1]), int(match[2])) if match else (-1, -1)
        if allow_24 and (hour, minute) == (24, 0):
            return time(0, 0)  # end of day: an end at or before the start is on the next day
        if not (0 <= hour <= 23 and 0 <= minute <= 59):
            self.error(node, f"{where} '{value}' is not a time; write HH:MM, e.g. 22:00")
            return None
        return time(hour, minute)

    def instant(self, node: yaml.Node | None, where: str) -> datetime | None:
        """A local 'YYYY-MM-DD HH:MM' (Copenhagen, by the DST rules) or an ISO time with an offset."""
        value = self.text(node, where)
        if value is None:
            return None
        fix = f"write YYYY-MM-DD HH:MM in Copenhagen time, e.g. {_EXAMPLES['from']}"
        match = _LOCAL_INSTANT.match(value)
        try:
            if match:
                hh, mm = match[2].split(":")
                return wall_to_utc(date.fromisoformat(match[1]), time(int(hh), int(mm)))
            parsed = datetime.fromisoformat(value)
        except ValueError:
            self.error(node, f"{where} '{value}' is not a date and time; {fix}")
            return None
        if _DATE.match(value):
            self.error(
                node, f"{where} '{value}' has no time of day; add one, e.g. '{value} 00:00' for midnight"
            )
            return None
        if parsed.tzinfo is None:
            return wall_to_utc(parsed.date(), parsed.time())
        return parsed.astimezone(UTC)


@cache
def known_languages() -> frozenset[str]:
    """The ISO 639 language codes the Unicode CLDR names (through Babel): 'ar', 'so', 'ti', 'fil' ..."""
    return frozenset(str(code) for code in Locale("en").languages if LANGUAGE_CODE.match(str(code)))


def _parse_days(token: str) -> set[int] | None:
    if token in _ALL_DAYS:
        return set(range(7))
    if token in _DAY_WORDS:
        return {_DAY_WORDS[token]}
    first, sep, last = token.partition("-")
    if not sep or first.strip() not in _DAY_WORDS or last.strip() not in _DAY_WORDS:
        return None
    a, z = _DAY_WORDS[first.strip()], _DAY_WORDS[last.strip()]
    return {(a + k) % 7 for k in range((z - a) % 7 + 1)}  # fri-mon wraps over the weekend


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return "nothing" if node.tag == _NULL_TAG else f"'{node.value}'"


def format_days(days: tuple[int, ...]) -> list[str]:
    """Weekdays as in the file, runs of three or more as ranges: (0, 1, 2, 3, 4, 6) -> [mon-fri, sun]."""
    out: list[str] = []
    ordered = sorted(set(days))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        if j - i >= 2:
            out.append(f"{DAY_NAMES[ordered[i]]}-{DAY_NAMES[ordered[j]]}")
        else:
            out += [DAY_NAMES[d] for d in ordered[i : j + 1]]
        i = j + 1
    return out


def format_local(value: datetime) -> str:
    """'YYYY-MM-DD HH:MM' Copenhagen time, or ISO with the offset when a bare local time would read back as a
    different instant (the second pass of the repeated October hour, or seconds)."""
    local = value.astimezone(COPENHAGEN)
    if local.second == 0 and is_first_reading(value):
        return f"{local:%Y-%m-%d %H:%M}"
    return local.isoformat()

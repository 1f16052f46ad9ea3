"""Editing a roster the way the console does: one change at a time to the roster file's data, judged by the
roster file's own loader (`routing.roster_file.load_roster`), so the browser and `hotline roster import` share
one rules engine.

A change is made to the plain data of the file (`roster_file.roster_data`), with the values as a manager typed
them; the data is written as YAML and read back with `load_roster`. Either the result is a `Roster` (the
proposal can be previewed and saved) or the loader's problems, each tied to the form field it is about and
worded from the staff catalogue (`Problem.words`), so the form can say in Danish what to fix.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from routing.roster import Layer, OverrideKind, Roster
from routing.roster_file import RosterFileError, dump_data, load_roster, roster_data
from routing.wording.catalogue import Ref, ref

__all__ = [
    "FILENAME",
    "AdvisorInput",
    "HolidayInput",
    "OverrideInput",
    "Problem",
    "Proposal",
    "ShiftInput",
    "add_override",
    "add_shift",
    "propose",
    "put_advisor",
    "refused",
    "remove_override",
    "remove_shift",
    "set_holidays",
    "start_from",
]

FILENAME = "vagtplan.yaml"  # what the loader calls the text the console writes (it names it in problems)
Data = dict[str, Any]


@dataclass(frozen=True)
class Problem:
    """Why a change was refused: `field` is the form field it is about (None: the change as a whole)."""

    field: str | None
    words: Ref


@dataclass(frozen=True)
class Proposal:
    """A changed roster: its file text, and either the loaded `roster` or the `problems` that refuse it."""

    text: str
    roster: Roster | None
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return self.roster is not None

    def problems_for(self, field: str) -> list[Problem]:
        return [p for p in self.problems if p.field == field]

    @property
    def general_problems(self) -> list[Problem]:
        return [p for p in self.problems if p.field is None]


@dataclass(frozen=True)
class AdvisorInput:
    id: str
    name: str
    phone: str
    languages: str  # "da, en" as typed
    skills: str = ""
    team: str = ""
    active: bool = True


@dataclass(frozen=True)
class ShiftInput:
    layer: str
    advisor: str
    days: tuple[str, ...]  # "mon" ... "sun"
    start: str
    end: str


@dataclass(frozen=True)
class OverrideInput:
    kind: str  # off, replace, add
    advisor: str  # who is off, who covers, who works the extra shift
    start: str  # "YYYY-MM-DD HH:MM", Copenhagen
    end: str
    replaces: str = ""  # for replace: whose shifts are covered
    layer: str = ""  # for add (needed) and replace (optional)
    reason: str = ""


@dataclass(frozen=True)
class HolidayInput:
    use: str  # a weekday ("sun") or "normal"
    include_optional: bool
    extra_dates: str = ""  # "2026-12-24, 2026-12-31"


def start_from(roster: Roster) -> Data:
    """The data of `roster`, to change (a deep copy: the caller may change it freely)."""
    return copy.deepcopy(roster_data(roster))


def _words(value: str) -> list[str]:
    return [w for w in re.split(r"[\s,;]+", value.strip()) if w]


def put_advisor(data: Data, values: AdvisorInput, *, existing: str | None) -> tuple[Data, str]:
    """Change advisor `existing` (their id stays), or add a new one when `existing` is None; the data and the
    advisor's path in it."""
    new = copy.deepcopy(data)
    advisors: list[dict[str, Any]] = new.setdefault("advisors", [])
    item: dict[str, Any] = {
        "id": existing if existing is not None else values.id.strip(),
        "name": values.name.strip(),
        "phone": values.phone.strip(),
        "languages": [w.lower() if w.isupper() else w for w in _words(values.languages)],
    }
    if _words(values.skills):
        item["skills"] = _words(values.skills)
    if values.team.strip():
        item["team"] = values.team.strip()
    if not values.active:
        item["active"] = False
    if existing is None:
        advisors.append(item)
        return new, f"advisors[{len(advisors) - 1}]"
    for i, found in enumerate(advisors):
        if found["id"] == existing:
            advisors[i] = item
            return new, f"advisors[{i}]"
    raise KeyError(existing)


def add_shift(data: Data, values: ShiftInput) -> tuple[Data, str]:
    """Add a weekly shift to the layer's pattern; the data and the shift's path."""
    new = copy.deepcopy(data)
    layer = values.layer if values.layer in {lay.value for lay in Layer} else Layer.PRIMARY.value
    shifts: list[dict[str, Any]] = new.setdefault("shifts", {}).setdefault(layer, [])
    shifts.append(
        {
            "advisor": values.advisor.strip(),
            "days": list(values.days),
            "start": values.start.strip(),
            "end": values.end.strip(),
        }
    )
    return new, f"shifts.{layer}[{len(shifts) - 1}]"


def remove_shift(data: Data, layer: str, index: int) -> Data:
    """The data without the layer's shift number `index` (IndexError or KeyError when there is none)."""
    new = copy.deepcopy(data)
    shifts: list[Any] = new["shifts"][layer]
    if not 0 <= index < len(shifts):
        raise IndexError(index)
    del shifts[index]
    return new


def add_override(data: Data, values: OverrideInput) -> tuple[Data, str]:
    """Add a dated override (time off, cover or an extra shift); the data and the override's path."""
    new = copy.deepcopy(data)
    item: dict[str, Any]
    kind = values.kind if values.kind in {k.value for k in OverrideKind} else OverrideKind.OFF.value
    if kind == OverrideKind.REPLACE:
        item = {"replace": values.replaces.strip(), "with": values.advisor.strip()}
    else:
        item = {kind: values.advisor.strip()}
    if kind != OverrideKind.OFF and values.layer.strip():
        item["layer"] = values.layer.strip()
    item["from"] = values.start.strip()
    item["to"] = values.end.strip()
    if values.reason.strip():
        item["reason"] = values.reason.strip()
    overrides: list[dict[str, Any]] = new.setdefault("overrides", [])
    overrides.append(item)
    return new, f"overrides[{len(overrides) - 1}]"


def remove_override(data: Data, index: int) -> Data:
    """The data without override number `index` (IndexError when there is none)."""
    new = copy.deepcopy(data)
    overrides: list[Any] = new.get("overrides") or []
    if not 0 <= index < len(overrides):
        raise IndexError(index)
    del overrides[index]
    new["overrides"] = overrides
    return new


def set_holidays(data: Data, values: HolidayInput) -> tuple[Data, str]:
    """Change the holiday rule; the data and its path."""
    new = copy.deepcopy(data)
    holidays: dict[str, Any] = {"use": values.use.strip(), "include_optional": values.include_optional}
    if _words(values.extra_dates):
        holidays["extra_dates"] = _words(values.extra_dates)
    new["holidays"] = holidays
    return new, "holidays"


def propose(data: Data, path: str | None = None, fields: Mapping[str, str] | None = None) -> Proposal:
    """Write `data` as roster-file text and load it back. `path` is where the change was made
    ("advisors[3]") and `fields` maps the keys there to the form's field names, so problems land on fields."""
    text = dump_data(data)
    try:
        return Proposal(text, load_roster(text, FILENAME))
    except RosterFileError as exc:
        return Proposal(text, None, tuple(_problem(p, path, fields or {}) for p in exc.problems))


def refused(text: str, problems: list[str]) -> Proposal:
    """A proposal the loader refused with `problems` (as RosterFileError lists them), worded for a page."""
    return Proposal(text, None, tuple(_problem(p, None, {}) for p in problems))


# --- the loader's problems, worded for the form --------------------------------------------------------------

_PREFIX = re.compile(r"^[^\n]*?:\d+: ")
# (pattern after "<where>", message) for problems about one key: the loader's wording (routing/roster_file.py,
# routing/roster_values.py) read back, so the loader stays the one judge and the form can speak Danish.
# tests/routing/test_roster_edits.py reaches each from the loader, so a reworded loader message fails there rather
# than showing English on the form.
_KEY_PROBLEMS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^ '(?P<value>.*)' is not a valid phone number"), "phone"),
    (re.compile(r"^\[\d+\] '(?P<value>.*)' is not (a language code|a known language code)"), "language"),
    (re.compile(r"^\[\d+\] '(?P<value>.*)' is not a skill"), "skill"),
    (re.compile(r"^ is empty; list the languages"), "languages_empty"),
    (re.compile(r"^ '(?P<value>.*)' is not a valid id"), "id"),
    (re.compile(r"^ '(?P<value>.*)' is used twice"), "id_taken"),
    (re.compile(r"^ '(?P<value>.*)' is not a date and time"), "instant"),
    (re.compile(r"^ '(?P<value>.*)' has no time of day"), "instant"),
    (re.compile(r"^ is not after from"), "end_before_start"),
    (re.compile(r"^ '(?P<value>.*)' is not a time"), "clock"),
    (re.compile(r"^ '(?P<value>.*)' is not a weekday"), "days"),
    (re.compile(r"^ is empty; write e\.g\. days"), "days"),
    (re.compile(r"^ '(?P<value>.*)' is not an advisor id"), "unknown_advisor"),
    (re.compile(r"^ is the advisor being replaced"), "same_advisor"),
    (re.compile(r"^ '(?P<value>.*)' is not (under teams|declared)"), "team"),
    (re.compile(r"^\[\d+\] '(?P<value>.*)' is not a date"), "date"),
    (re.compile(r"^ '(?P<value>.*)' is not allowed"), "choice"),
    (re.compile(r"^ is empty"), "required"),
    (re.compile(r"^ must be a single value"), "required"),
]
_OVERLAP = re.compile(r"replaces (?P<advisor>\S+) at the same time as the one at line")
_NO_LAYER = re.compile(r" adds a shift but has no layer:")


def _problem(raw: str, path: str | None, fields: Mapping[str, str]) -> Problem:
    message = _PREFIX.sub("", raw, count=1)
    overlap = _OVERLAP.search(message)
    if overlap:
        return Problem(None, ref("roster.problem.overlap", advisor=overlap["advisor"]))
    if path is not None and message.startswith(path):
        rest = message[len(path) :]
        if _NO_LAYER.match(rest):
            return Problem(fields.get("layer"), ref("roster.problem.layer_needed"))
        key = re.match(r"^\.(?P<key>[a-z_]+)", rest)
        if key is not None:
            after = rest[key.end() :]
            for pattern, kind in _KEY_PROBLEMS:
                found = pattern.match(after)
                if found:
                    value = found.groupdict().get("value") or ""
                    return Problem(fields.get(key["key"]), _worded(kind, value))
    return Problem(None, ref("roster.problem.other", problem=message))


def _worded(kind: str, value: str) -> Ref:
    # Literal `ref` calls, not a table of ids: tests/routing/wording/test_usage.py checks each id and placeholders.
    words = {
        "phone": ref("roster.problem.phone", value=value),
        "language": ref("roster.problem.language", value=value),
        "skill": ref("roster.problem.skill", value=value),
        "languages_empty": ref("roster.problem.languages_empty"),
        "id": ref("roster.problem.id", value=value),
        "id_taken": ref("roster.problem.id_taken", value=value),
        "instant": ref("roster.problem.instant", value=value),
        "end_before_start": ref("roster.problem.end_before_start"),
        "clock": ref("roster.problem.clock", value=value),
        "days": ref("roster.problem.days"),
        "unknown_advisor": ref("roster.problem.unknown_advisor", value=value),
        "same_advisor": ref("roster.problem.same_advisor"),
        "team": ref("roster.problem.team", value=value),
        "date": ref("roster.problem.date", value=value),
        "choice": ref("roster.problem.choice", value=value),
        "required": ref("roster.problem.required"),
    }
    return words[kind]

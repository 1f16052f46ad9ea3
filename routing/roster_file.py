"""The roster file (YAML): `load_roster` reads and checks it, `dump_roster` writes one back.

The format is described for managers in docs/roster.md; `routing/demo_roster.yaml` is a complete example.
Loading is all-or-nothing: every problem is collected, each naming file:line, the key and the fix, and any
problem raises `RosterFileError` instead of returning a partial roster. Values are read from the YAML text
as written (so 07:00 is a time, not the sexagesimal number YAML 1.1 would make of it).
"""

from __future__ import annotations

import difflib
from datetime import date, time
from typing import Any

import yaml

from routing import yaml_parser
from routing.holiday_rule import HolidayRule
from routing.roster import (
    Advisor,
    Layer,
    Override,
    OverrideKind,
    Roster,
    Team,
    WeeklyShift,
    overlapping_replacements,
)
from routing.roster_values import Reader, format_days, format_local

__all__ = ["RosterFileError", "dump_data", "dump_roster", "load_roster", "roster_data"]

FORMAT_VERSION = 1
_TOP = {
    "version": False,
    "holidays": False,
    "teams": False,
    "advisors": True,
    "shifts": True,
    "overrides": False,
}
_ADVISOR = {
    "id": True,
    "name": True,
    "phone": True,
    "languages": True,
    "skills": False,
    "team": False,
    "active": False,
}
_SHIFT = {"advisor": True, "days": True, "start": True, "end": True}
_OVERRIDE = {"replace": False, "with": False, "off": False, "add": False, "layer": False}
_OVERRIDE |= {"from": True, "to": True, "reason": False}
_HOLIDAYS = {"use": False, "include_optional": False, "extra_dates": False}
_KINDS = {"replace": OverrideKind.REPLACE, "off": OverrideKind.OFF, "add": OverrideKind.ADD}
_DEFAULT_REASON = {OverrideKind.REPLACE: "cover", OverrideKind.OFF: "sick", OverrideKind.ADD: "extra"}


class RosterFileError(Exception):
    """The roster file cannot be used; `problems` holds one line per problem: "file:line: what; the fix"."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def load_roster(text: str, filename: str = "roster.yaml") -> Roster:
    """Parse and check roster YAML `text`; `filename` is only used in messages. Raises RosterFileError."""
    r = Reader(filename)
    try:
        root = yaml_parser.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise RosterFileError(
            [f"{filename}:{line}: the file is not valid YAML ({problem}); check indentation and quotes"]
        ) from exc
    if root is None:
        raise RosterFileError([f"{filename}:1: the file is empty; start from routing/demo_roster.yaml"])
    top = r.mapping(root, "the file", _TOP)
    if top is None:
        raise RosterFileError(r.problems)
    if "version" in top:
        r.choice(top["version"], "version", {str(FORMAT_VERSION): FORMAT_VERSION})
    rule = _holiday_rule(r, top.get("holidays"))
    teams = _teams(r, top.get("teams"))
    advisors, ids = _advisors(r, top.get("advisors"), teams)
    shifts = _shifts(r, top.get("shifts"), ids)
    overrides = _overrides(r, top.get("overrides"), ids)
    if r.problems:
        raise RosterFileError(r.sorted_problems())
    try:
        return Roster(
            tuple(advisors), tuple(shifts), tuple(o for o, _ in overrides), rule, tuple(teams.values())
        )
    except ValueError as exc:  # every rule is checked above with its line; this is a last guard
        raise RosterFileError([f"{filename}:1: {exc}"]) from exc


def _holiday_rule(r: Reader, node: yaml.Node | None) -> HolidayRule:
    if node is None or r.is_null(node):
        return HolidayRule()
    m = r.mapping(node, "holidays", _HOLIDAYS)
    if m is None:
        return HolidayRule()
    use = r.holiday_pattern(m["use"], "holidays.use") if "use" in m else 6
    optional = (
        r.boolean(m["include_optional"], "holidays.include_optional") if "include_optional" in m else False
    )
    extra: list[date] = []
    for i, item in enumerate(r.sequence(m.get("extra_dates"), "holidays.extra_dates")):
        found = r.date(item, f"holidays.extra_dates[{i}]")
        if found is not None:
            extra.append(found)
    return HolidayRule(use, bool(optional), tuple(extra))


def _teams(r: Reader, node: yaml.Node | None) -> dict[str, Team]:
    teams: dict[str, Team] = {}
    for i, item in enumerate(r.sequence(node, "teams")):
        m = r.mapping(item, f"teams[{i}]", {"id": True, "name": True})
        if m is None:
            continue
        team_id = r.slug(m.get("id"), f"teams[{i}].id")
        name = r.text(m.get("name"), f"teams[{i}].name")
        if team_id is None or name is None:
            continue
        if team_id in teams:
            r.error(m["id"], f"teams[{i}].id '{team_id}' is used twice; give each team its own id")
        teams[team_id] = Team(team_id, name)
    return teams


def _advisors(r: Reader, node: yaml.Node | None, teams: dict[str, Team]) -> tuple[list[Advisor], set[str]]:
    advisors: list[Advisor] = []
    first_line: dict[str, int] = {}
    for i, item in enumerate(r.sequence(node, "advisors")):
        where = f"advisors[{i}]"
        m = r.mapping(item, where, _ADVISOR)
        if m is None:
            continue
        advisor_id = r.slug(m.get("id"), f"{where}.id")
        name = r.text(m.get("name"), f"{where}.name")
        phone = r.phone(m.get("phone"), f"{where}.phone")
        languages = r.codes(m.get("languages"), f"{where}.languages", language=True)
        skills = r.codes(m["skills"], f"{where}.skills", language=False) if "skills" in m else []
        team = ""
        if "team" in m:
            team = r.text(m["team"], f"{where}.team") or ""
            if team and teams and team not in teams:
                known = ", ".join(sorted(teams))
                r.error(
                    m["team"], f"{where}.team '{team}' is not under teams:; use one of {known}, or add it"
                )
            elif team and not teams:
                r.error(
                    m["team"],
                    f"{where}.team '{team}' is not declared; add it under teams: with an id and name",
                )
        active = r.boolean(m["active"], f"{where}.active") if "active" in m else True
        if advisor_id is not None:
            if advisor_id in first_line:
                r.error(
                    m["id"],
                    f"{where}.id '{advisor_id}' is used twice (first at line {first_line[advisor_id]}); "
                    "give each advisor their own id",
                )
                continue
            first_line[advisor_id] = r.line(m["id"])
        if advisor_id is None or name is None or phone is None or not languages or active is None:
            continue
        advisors.append(Advisor(advisor_id, name, phone, tuple(languages), tuple(skills), team, active))
    if not first_line and not r.problems:
        r.error(node, "advisors: the roster has no advisors; add at least one under advisors:")
    # Every id that was written counts for the checks below, so one advisor's bad phone number does not
    # also make each of their shifts an error.
    return advisors, set(first_line)


def _advisor_ref(r: Reader, node: yaml.Node | None, where: str, ids: set[str]) -> str | None:
    value = r.text(node, where)
    if value is None:
        return None
    if value not in ids:
        close = difflib.get_close_matches(value, sorted(ids), n=1)
        hint = f"did you mean '{close[0]}'?" if close else "use an id from advisors:"
        r.error(node, f"{where} '{value}' is not an advisor id; {hint}")
        return None
    return value


def _shifts(r: Reader, node: yaml.Node | None, ids: set[str]) -> list[WeeklyShift]:
    shifts: list[WeeklyShift] = []
    if node is None or r.is_null(node):
        return shifts
    layers = r.mapping(node, "shifts", {layer.value: False for layer in Layer})
    if layers is None:
        return shifts
    for layer_name, seq in layers.items():
        layer = Layer(layer_name)
        for i, item in enumerate(r.sequence(seq, f"shifts.{layer_name}")):
            where = f"shifts.{layer_name}[{i}]"
            m = r.mapping(item, where, _SHIFT)
            if m is None:
                continue
            advisor_id = _advisor_ref(r, m.get("advisor"), f"{where}.advisor", ids)
            days = r.days(m.get("days"), f"{where}.days")
            start = r.clock(m.get("start"), f"{where}.start", allow_24=False)
            end = r.clock(m.get("end"), f"{where}.end", allow_24=True)
            if advisor_id is not None and days and start is not None and end is not None:
                shifts.append(WeeklyShift(advisor_id, layer, tuple(days), start, end))
    return shifts


def _overrides(r: Reader, node: yaml.Node | None, ids: set[str]) -> list[tuple[Override, int]]:
    found: list[tuple[Override, int]] = []
    for i, item in enumerate(r.sequence(node, "overrides")):
        where = f"overrides[{i}]"
        m = r.mapping(item, where, _OVERRIDE)
        if m is None:
            continue
        kinds = [k for k in _KINDS if k in m]
        if len(kinds) != 1:
            r.error(item, f"{where} needs exactly one of replace:, off: or add: (found {len(kinds)})")
            continue
        kind = _KINDS[kinds[0]]
        advisor_id = _advisor_ref(r, m[kinds[0]], f"{where}.{kinds[0]}", ids)
        stand_in: str | None = None
        if kind is OverrideKind.REPLACE:
            if "with" not in m:
                r.error(
                    item, f"{where} replaces someone but has no with:; write with: <advisor id> (who covers)"
                )
            else:
                stand_in = _advisor_ref(r, m["with"], f"{where}.with", ids)
            if stand_in is not None and stand_in == advisor_id:
                r.error(m["with"], f"{where}.with is the advisor being replaced; name the advisor who covers")
                stand_in = None
        elif "with" in m:
            r.error(m["with"], f"{where}.with only belongs to replace:; remove it")
        layer: Layer | None = None
        if "layer" in m:
            if kind is OverrideKind.OFF:
                r.error(m["layer"], f"{where}.layer: time off applies to every layer; remove layer:")
            else:
                layer = r.choice(m["layer"], f"{where}.layer", {lay.value: lay for lay in Layer})
        elif kind is OverrideKind.ADD:
            r.error(item, f"{where} adds a shift but has no layer:; write layer: primary, backup or manager")
        start = r.instant(m.get("from"), f"{where}.from")
        end = r.instant(m.get("to"), f"{where}.to")
        if start is not None and end is not None and end <= start:
            r.error(m["to"], f"{where}.to is not after from:; the override must end after it starts")
            continue
        reason = (
            r.text(m["reason"], f"{where}.reason", allow_empty=True)
            if "reason" in m
            else _DEFAULT_REASON[kind]
        )
        if None in (advisor_id, start, end, reason) or (kind is OverrideKind.REPLACE and stand_in is None):
            continue
        if kind is OverrideKind.ADD and layer is None:
            continue
        assert advisor_id is not None and start is not None and end is not None and reason is not None
        if kind is OverrideKind.REPLACE:
            assert stand_in is not None
            o = Override.replacement(stand_in, advisor_id, start, end, layer=layer, reason=reason)
        elif kind is OverrideKind.OFF:
            o = Override.absence(advisor_id, start, end, reason=reason)
        else:
            assert layer is not None
            o = Override.extra(advisor_id, layer, start, end, reason=reason)
        found.append((o, r.line(item)))
    _check_overlaps(r, found)
    return found


def _check_overlaps(r: Reader, found: list[tuple[Override, int]]) -> None:
    overrides = tuple(o for o, _ in found)
    for i, j in overlapping_replacements(overrides):
        r.error_at(
            found[j][1],
            f"this override replaces {overrides[j].replaces} at the same time as the one at line "
            f"{found[i][1]}; remove one, give them different layers, or make their times not overlap",
        )


# --- writing ------------------------------------------------------------------------------------------------


def dump_roster(roster: Roster) -> str:
    """The roster as roster-file YAML; `load_roster` reads it back to an equal Roster."""
    return dump_data(roster_data(roster))


def roster_data(roster: Roster) -> dict[str, Any]:
    """The roster as the plain data of a roster file (what `dump_data` writes): lists and mappings of strings,
    so an editor can change values as a manager types them and let `load_roster` judge the result."""
    data: dict[str, Any] = {"version": FORMAT_VERSION}
    rule = roster.holiday_rule
    holidays: dict[str, Any] = {"use": rule.use_name, "include_optional": rule.include_optional}
    if rule.extra_dates:
        holidays["extra_dates"] = [d.isoformat() for d in rule.extra_dates]
    data["holidays"] = holidays
    if roster.teams:
        data["teams"] = [{"id": t.id, "name": t.name} for t in roster.teams]
    data["advisors"] = [_advisor_data(a) for a in roster.advisors]
    data["shifts"] = {
        layer.value: [
            {
                "advisor": s.advisor_id,
                "days": format_days(s.days),
                "start": _hhmm(s.start),
                "end": _hhmm(s.end),
            }
            for s in roster.shifts
            if s.layer is layer
        ]
        for layer in Layer
    }
    data["overrides"] = [_override_data(o) for o in roster.overrides]
    return data


def dump_data(data: dict[str, Any]) -> str:
    """Roster-file data (as `roster_data` makes it) as YAML text."""
    header = "# Pårørendelinjen roster (see docs/roster.md). Times are Copenhagen wall-clock times.\n"
    body = yaml.dump(
        data,
        Dumper=yaml_parser.FastDumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=None,
        width=110,
    )
    return header + body


def _hhmm(t: time) -> str:
    if t.second or t.microsecond:
        raise ValueError(f"shift time {t} has seconds; the roster file holds whole minutes")
    return f"{t:%H:%M}"


def _advisor_data(a: Advisor) -> dict[str, Any]:
    data: dict[str, Any] = {"id": a.id, "name": a.name, "phone": a.phone, "languages": list(a.languages)}
    if a.skills:
        data["skills"] = list(a.skills)
    if a.team:
        data["team"] = a.team
    if not a.active:
        data["active"] = False
    return data


def _override_data(o: Override) -> dict[str, Any]:
    data: dict[str, Any]
    if o.kind is OverrideKind.REPLACE:
        data = {"replace": o.replaces, "with": o.advisor_id}
    elif o.kind is OverrideKind.OFF:
        data = {"off": o.advisor_id}
    else:
        data = {"add": o.advisor_id}
    if o.layer is not None:
        data["layer"] = o.layer.value
    data["from"] = format_local(o.start)
    data["to"] = format_local(o.end)
    data["reason"] = o.reason
    return data

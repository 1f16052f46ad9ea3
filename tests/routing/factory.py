"""Builders for roster tests and the benchmark. Phone numbers come only from the reserve series +45 68 .. .. ..,
which the Danish numbering plan never assigns to a subscriber."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from routing.holiday_rule import DAY_NAMES
from routing.roster import Advisor, Layer, Override, Roster, Team, WeeklyShift
from routing.wallclock import COPENHAGEN, wall_interval

ALL_DAYS = tuple(range(7))


def cph(y: int, m: int, d: int, hh: int = 0, mm: int = 0, *, fold: int = 0) -> datetime:
    """An aware Copenhagen datetime (fold=1 picks the second pass of the repeated October hour)."""
    return datetime(y, m, d, hh, mm, tzinfo=COPENHAGEN, fold=fold)


def phone(n: int) -> str:
    """+4568xxxxxx: the reserve series used for advisors."""
    return f"+4568{n:06d}"


def advisor(
    advisor_id: str,
    n: int = 1,
    *,
    languages: tuple[str, ...] = ("da",),
    team: str = "",
    active: bool = True,
    skills: tuple[str, ...] = (),
    name: str | None = None,
) -> Advisor:
    return Advisor(advisor_id, name or advisor_id.title(), phone(n), languages, skills, team, active)


def hm(text: str) -> time:
    hh, mm = text.split(":")
    return time(int(hh) % 24, int(mm))


def days(spec: str) -> tuple[int, ...]:
    """'mon-fri', 'sat,sun' or 'daily' as weekday numbers."""
    if spec == "daily":
        return ALL_DAYS
    out: list[int] = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        a = DAY_NAMES.index(first)
        z = DAY_NAMES.index(last) if last else a
        out += [(a + k) % 7 for k in range((z - a) % 7 + 1)]
    return tuple(out)


def shift(advisor_id: str, layer: Layer | str, day_spec: str, start: str, end: str) -> WeeklyShift:
    return WeeklyShift(advisor_id, Layer(layer), days(day_spec), hm(start), hm(end))


def big_roster(
    n_advisors: int = 300,
    *,
    first_day: date = date(2026, 1, 1),
    n_days: int = 730,
    overrides_per_day: float = 8.0,
    seed: int = 2026,
) -> Roster:
    """A large roster: teams of ten, each covering the whole week in primary (three shifts a day), backup (two)
    and manager (one); plus random sick leave, cover and extra shifts over `n_days`."""
    rng = random.Random(seed)
    team_size = 10
    n_teams = max(1, n_advisors // team_size)
    pool = ["en", "ar", "tr", "uk", "pl", "so", "fa", "de"]
    advisors = [
        advisor(
            f"a{i:03d}",
            100_000 + i,
            languages=("da", *rng.sample(pool, rng.randint(0, 2))),
            team=f"team-{i // team_size % n_teams:02d}",
            active=rng.random() > 0.02,
        )
        for i in range(n_advisors)
    ]
    slots = [
        (Layer.PRIMARY, "07:00", "15:00"),
        (Layer.PRIMARY, "15:00", "23:00"),
        (Layer.PRIMARY, "23:00", "07:00"),
        (Layer.BACKUP, "08:00", "16:00"),
        (Layer.BACKUP, "16:00", "00:00"),
        (Layer.MANAGER, "07:00", "07:00"),
    ]
    shifts: list[WeeklyShift] = []
    for team in range(n_teams):
        members = [a.id for a in advisors[team * team_size : (team + 1) * team_size]]
        for k, (layer, start, end) in enumerate(slots):
            by_member: dict[str, list[int]] = {}
            for weekday in range(7):
                by_member.setdefault(members[(weekday + 3 * k) % len(members)], []).append(weekday)
            for member, member_days in by_member.items():
                shifts.append(WeeklyShift(member, layer, tuple(member_days), hm(start), hm(end)))
    ids = [a.id for a in advisors]
    by_day: dict[int, list[WeeklyShift]] = {d: [s for s in shifts if d in s.days] for d in range(7)}
    overrides: list[Override] = []
    replaced: set[tuple[str, Layer, date]] = set()
    for offset in range(n_days):
        day = first_day + timedelta(days=offset)
        count = int(overrides_per_day) + (rng.random() < overrides_per_day % 1)
        for _ in range(count):
            roll = rng.random()
            if roll < 0.45:  # sick for one to three days, from some hour
                start = datetime.combine(day, time(rng.randrange(24)), COPENHAGEN)
                overrides.append(
                    Override.absence(
                        rng.choice(ids), start, start + timedelta(days=rng.randint(1, 3)), reason="sick"
                    )
                )
            elif roll < 0.8:  # cover for one occurrence of someone's shift
                target = rng.choice(by_day[day.weekday()])
                span = wall_interval(day, target.start, target.end)
                key = (target.advisor_id, target.layer, day)
                stand_in = rng.choice(ids)
                if span is None or key in replaced or stand_in == target.advisor_id:
                    continue
                replaced.add(key)
                overrides.append(
                    Override.replacement(
                        stand_in, target.advisor_id, *span, layer=target.layer, reason="cover"
                    )
                )
            else:  # an extra hand for a few hours
                start = datetime.combine(day, time(rng.randrange(24)), COPENHAGEN)
                layer = rng.choice([Layer.PRIMARY, Layer.BACKUP])
                end = start + timedelta(hours=rng.randint(2, 10))
                overrides.append(Override.extra(rng.choice(ids), layer, start, end, reason="extra"))
    teams = [Team(f"team-{t:02d}", f"Team {t:02d}") for t in range(n_teams)]
    return Roster(tuple(advisors), tuple(shifts), tuple(overrides), teams=tuple(teams))

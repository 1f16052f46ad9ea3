"""Hypothesis strategies for rosters whose shifts and overrides cluster around the DST nights."""

from datetime import UTC, date, timedelta

from hypothesis import strategies as st

from routing.roster import Layer, Override, Roster
from tests.routing.factory import advisor, cph, shift

DST_NIGHTS = [date(2026, 3, 28), date(2026, 10, 24), date(2027, 3, 27), date(2027, 10, 30), date(2026, 6, 13)]
TIMES = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 15, 30, 59]))


@st.composite
def rosters(draw: st.DrawFn) -> Roster:
    people = [advisor(f"p{i}", i, active=draw(st.booleans()) or i < 2) for i in range(4)]
    ids = [p.id for p in people]
    shifts = [
        shift(
            draw(st.sampled_from(ids)),
            draw(st.sampled_from(list(Layer))),
            draw(st.sampled_from(["daily", "sat", "sun", "sat,sun", "mon-fri"])),
            draw(TIMES),
            draw(TIMES),
        )
        for _ in range(draw(st.integers(1, 6)))
    ]
    overrides: list[Override] = []
    for _ in range(draw(st.integers(0, 4))):
        night = draw(st.sampled_from(DST_NIGHTS))
        # real-time steps (in UTC), so every instant of the DST nights can be hit, both October passes included
        evening = cph(night.year, night.month, night.day, 18).astimezone(UTC)
        start = evening + timedelta(minutes=draw(st.integers(0, 14 * 60)))
        end = start + timedelta(minutes=draw(st.integers(1, 10 * 60)))
        kind = draw(st.sampled_from(["off", "replace", "add"]))
        a, b = draw(st.permutations(ids))[:2]
        if kind == "off":
            overrides.append(Override.absence(a, start, end))
        elif kind == "add":
            overrides.append(Override.extra(a, draw(st.sampled_from(list(Layer))), start, end))
        elif not any(o.replaces == b and o.start < end and start < o.end for o in overrides):
            overrides.append(Override.replacement(a, b, start, end))
    return Roster(tuple(people), tuple(shifts), tuple(overrides))

from datetime import datetime, time

import pytest

from routing.chain import build_chain
from routing.gaps import find_gaps
from routing.ical import feed
from routing.oncall import coverage, oncall_at
from routing.roster import Advisor, Layer, Override, OverrideKind, Roster, Team, WeeklyShift
from tests.routing.factory import advisor, cph, shift


def test_naive_override_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        Override.absence("anna", datetime(2026, 6, 1, 8), cph(2026, 6, 1, 16))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Override.absence("anna", cph(2026, 6, 1, 16), cph(2026, 6, 1, 8)), "must be after"),
        (
            lambda: Override.replacement("anna", "anna", cph(2026, 6, 1, 8), cph(2026, 6, 1, 16)),
            "another advisor",
        ),
        (
            lambda: Override(OverrideKind.ADD, "anna", cph(2026, 6, 1, 8), cph(2026, 6, 1, 16)),
            "needs a layer",
        ),
        (
            lambda: Override(
                OverrideKind.OFF, "anna", cph(2026, 6, 1, 8), cph(2026, 6, 1, 16), layer=Layer.PRIMARY
            ),
            "every layer",
        ),
        (lambda: Advisor("Anna", "Anna", "+4568000001"), "slug"),
        (lambda: Advisor("anna", "Anna", "68000001"), "E.164"),
        (lambda: Advisor("anna", "Anna", "+4568000001", languages=("AR",)), "lowercase"),
        (lambda: WeeklyShift("anna", Layer.PRIMARY, (), time(8), time(16)), "weekdays"),
    ],
)
def test_bad_values_are_refused(make, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"advisors": (advisor("anna", 1), advisor("anna", 2))}, "appears twice"),
        ({"shifts": (shift("nobody", "primary", "daily", "08:00", "16:00"),)}, "unknown advisor"),
        ({"overrides": (Override.absence("nobody", cph(2026, 6, 1), cph(2026, 6, 2)),)}, "unknown advisor"),
        ({"teams": (Team("nord", "Nord"),)}, "unknown team"),
        (
            {
                "overrides": (
                    Override.replacement("bo", "anna", cph(2026, 6, 1, 8), cph(2026, 6, 1, 16)),
                    Override.replacement(
                        "bo", "anna", cph(2026, 6, 1, 15), cph(2026, 6, 1, 20), layer=Layer.BACKUP
                    ),
                )
            },
            "replace anna at the same time",
        ),
    ],
)
def test_inconsistent_roster_is_refused(kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    base = {"advisors": (advisor("anna", 1, team="syd"), advisor("bo", 2, team="syd"))}
    with pytest.raises(ValueError, match=message):
        Roster(**(base | kwargs))


def test_replacements_in_different_layers_may_overlap() -> None:
    Roster(
        advisors=(advisor("anna", 1), advisor("bo", 2), advisor("cy", 3)),
        overrides=(
            Override.replacement("bo", "anna", cph(2026, 6, 1, 8), cph(2026, 6, 1, 16), layer=Layer.PRIMARY),
            Override.replacement("cy", "anna", cph(2026, 6, 1, 8), cph(2026, 6, 1, 16), layer=Layer.BACKUP),
        ),
    )


def test_override_times_are_kept_in_utc() -> None:
    o = Override.absence("anna", cph(2026, 6, 1, 8), cph(2026, 6, 1, 16))
    assert o.start.utcoffset().total_seconds() == 0 and o.start.hour == 6  # type: ignore[union-attr]


NAIVE = datetime(2026, 6, 1, 12)
AWARE = cph(2026, 6, 2, 12)


@pytest.mark.parametrize(
    "call",
    [
        lambda r: oncall_at(r, NAIVE),
        lambda r: coverage(r, NAIVE, AWARE),
        lambda r: coverage(r, cph(2026, 6, 1), NAIVE),
        lambda r: build_chain(r, NAIVE, reason="acute", language="da"),
        lambda r: find_gaps(r, NAIVE, AWARE),
        lambda r: feed(r, NAIVE, AWARE, service_name="Pårørendelinjen"),
    ],
)
def test_every_entry_point_refuses_naive_datetimes(call) -> None:  # type: ignore[no-untyped-def]
    roster = Roster(
        advisors=(advisor("anna", 1),), shifts=(shift("anna", "primary", "daily", "08:00", "16:00"),)
    )
    with pytest.raises(ValueError, match="naive"):
        call(roster)

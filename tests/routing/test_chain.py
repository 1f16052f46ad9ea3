from datetime import datetime

import pytest

from routing.chain import ChainPreferences, build_chain
from routing.roster import Layer, Override, Roster
from tests.routing.factory import advisor, cph, shift

P, B, M = Layer.PRIMARY, Layer.BACKUP, Layer.MANAGER
T = cph(2026, 6, 10, 10)  # a Wednesday morning


def team() -> Roster:
    """At T: primaries anna (da) and samir (da, ar), backups bo (da, en) and lina (da, ar), manager mona;
    ulla (ar) is inactive."""
    return Roster(
        advisors=(
            advisor("anna", 1),
            advisor("samir", 2, languages=("da", "ar")),
            advisor("bo", 3, languages=("da", "en")),
            advisor("lina", 4, languages=("da", "ar")),
            advisor("mona", 5),
            advisor("ulla", 6, languages=("ar",), active=False),
        ),
        shifts=(
            shift("anna", P, "mon-fri", "08:00", "16:00"),
            shift("samir", P, "mon-fri", "08:00", "16:00"),
            shift("bo", B, "mon-fri", "08:00", "16:00"),
            shift("lina", B, "mon-fri", "08:00", "16:00"),
            shift("mona", M, "daily", "00:00", "00:00"),
            shift("ulla", P, "daily", "00:00", "00:00"),
        ),
    )


@pytest.mark.parametrize(
    ("reason", "language", "contact", "busy", "prefs", "expected"),
    [
        # primary before backup before manager; within a layer by id
        ("acute", "da", None, set(), ChainPreferences(), ["anna", "samir", "bo", "lina", "mona"]),
        # Arabic speakers first within each layer
        ("acute", "ar", None, set(), ChainPreferences(), ["samir", "anna", "lina", "bo", "mona"]),
        ("acute", "en", None, set(), ChainPreferences(), ["anna", "samir", "bo", "lina", "mona"]),
        # the contact person first, even from the backup layer
        ("acute", "ar", "bo", set(), ChainPreferences(), ["bo", "samir", "anna", "lina", "mona"]),
        # a contact person who is not on call changes nothing
        ("acute", "da", "ulla", set(), ChainPreferences(), ["anna", "samir", "bo", "lina", "mona"]),
        # busy advisors are left out
        ("acute", "ar", "bo", {"bo", "samir"}, ChainPreferences(), ["anna", "lina", "mona"]),
        # questions stop after the backup layer
        ("question", "da", None, set(), ChainPreferences(), ["anna", "samir", "bo", "lina"]),
        ("question", "da", "mona", set(), ChainPreferences(), ["anna", "samir", "bo", "lina"]),
        ("question", "da", None, set(), ChainPreferences(question_layers=(P,)), ["anna", "samir"]),
        # each rule can be switched off
        (
            "acute",
            "ar",
            "bo",
            set(),
            ChainPreferences(contact_person_first=False),
            ["samir", "anna", "lina", "bo", "mona"],
        ),
        (
            "acute",
            "ar",
            None,
            set(),
            ChainPreferences(language_first=False),
            ["anna", "samir", "bo", "lina", "mona"],
        ),
        (
            "acute",
            "ar",
            None,
            set(),
            ChainPreferences(layer_order=False),
            ["lina", "samir", "anna", "bo", "mona"],
        ),
        # everyone busy: an empty chain
        ("acute", "da", None, {"anna", "samir", "bo", "lina", "mona"}, ChainPreferences(), []),
    ],
)
def test_chain_order(
    reason: str,
    language: str,
    contact: str | None,
    busy: set[str],
    prefs: ChainPreferences,
    expected: list[str],
) -> None:
    chain = build_chain(
        team(),
        T,
        reason=reason,
        language=language,
        contact_person_id=contact,
        busy=busy,
        prefs=prefs,  # type: ignore[arg-type]
    )
    assert chain.advisor_ids == expected
    assert "ulla" not in chain.advisor_ids


def test_reasons_are_explained() -> None:
    chain = build_chain(team(), T, reason="acute", language="ar", contact_person_id="lina", busy={"samir"})
    first = chain.steps[0]
    assert first.advisor.id == "lina"
    assert first.why == (
        "kontaktperson (contact person)",
        "taler arabisk (speaks Arabic)",
        "bagvagt (backup)",
    )
    assert [s.advisor.id for s in chain.skipped] == ["samir"]
    text = "\n".join(chain.explain())
    assert "1. Lina (lina, +45 68 00 ** **)" in text
    assert "Springes over (skipped): Samir (samir): optaget" in text
    assert "+4568000004" not in text  # numbers are masked in the printout


def test_cover_and_extra_shifts_say_so() -> None:
    roster = team()
    cover = Override.replacement("mona", "anna", cph(2026, 6, 10, 9), cph(2026, 6, 10, 11))
    extra = Override.extra("ulla", P, cph(2026, 6, 10, 9), cph(2026, 6, 10, 11))  # inactive: never rung
    roster = Roster(roster.advisors, roster.shifts, (cover, extra))
    chain = build_chain(roster, T, reason="question", language="da")
    assert chain.advisor_ids == ["mona", "samir", "bo", "lina"]  # mona covers anna in primary
    assert "dækker for anna (covering for anna)" in chain.steps[0].why


def test_advisor_in_two_layers_is_rung_once_at_the_earlier_layer() -> None:
    roster = team()
    roster = Roster(roster.advisors, (*roster.shifts, shift("mona", P, "wed", "09:00", "11:00")))
    chain = build_chain(roster, T, reason="acute", language="da")
    assert chain.advisor_ids == ["anna", "mona", "samir", "bo", "lina"]
    assert chain.steps[1].layer is P


@pytest.mark.parametrize("t", [cph(2026, 6, 10, 10), cph(2026, 10, 25, 2, 30, fold=1)])
def test_empty_roster_gives_an_empty_chain(t: datetime) -> None:
    chain = build_chain(Roster(), t, reason="acute", language="da")
    assert not chain and len(chain) == 0
    assert "Ingen at ringe til" in chain.explain()[1]


def test_unknown_reason_is_refused() -> None:
    with pytest.raises(ValueError, match="reason"):
        build_chain(team(), T, reason="urgent", language="da")  # type: ignore[arg-type]

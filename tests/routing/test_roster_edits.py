"""The console's roster editing core: changes judged by the roster file's loader (problems tied to fields and
worded from the catalogue), what a change changes day by day, and the warnings with their hours, on the DST
nights too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from routing.gaps import CoverageHours
from routing.roster import Layer
from routing.roster_diff import changes, period, subtract, summary
from routing.roster_edits import (
    AdvisorInput,
    HolidayInput,
    OverrideInput,
    ShiftInput,
    add_override,
    add_shift,
    propose,
    put_advisor,
    remove_override,
    set_holidays,
    start_from,
)
from routing.roster_file import load_roster
from routing.roster_swaps import cover_input, shifts_of
from routing.roster_warnings import RosterWarning, WarningKind, span_words, warning_period, warnings
from routing.wallclock import COPENHAGEN
from routing.wording.catalogue import text

NIGHTS = """
version: 1
advisors:
  - {id: anna, name: Anna Prøve, phone: "+45 68 30 00 01", languages: [da, en]}
  - {id: dalia, name: Dalia Prøve, phone: "+45 68 30 00 02", languages: [da, ar]}
  - {id: bo, name: Bo Prøve, phone: "+45 68 30 00 03", languages: [da]}
shifts:
  primary:
    - {advisor: anna, days: daily, start: "07:00", end: "22:00"}
    - {advisor: dalia, days: daily, start: "22:00", end: "07:00"}
  backup:
    - {advisor: bo, days: daily, start: "07:00", end: "07:00"}
"""
BASE = load_roster(NIGHTS)
FIELDS = {"from": "from_date", "to": "to_date", "off": "advisor", "with": "advisor", "replace": "replaces"}


def cph(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=COPENHAGEN)


def off(advisor: str, start: str, end: str) -> OverrideInput:
    return OverrideInput(kind="off", advisor=advisor, start=start, end=end)


def with_override(*inputs: OverrideInput) -> tuple[str, object]:
    data = start_from(BASE)
    path = ""
    for entered in inputs:
        data, path = add_override(data, entered)
    proposal = propose(data, path, FIELDS)
    return path, proposal


def test_a_change_the_loader_accepts_is_a_roster_that_reads_back_equal() -> None:
    data, path = add_override(start_from(BASE), off("dalia", "2026-12-08 22:00", "2026-12-09 07:00"))
    proposal = propose(data, path)
    assert proposal.roster is not None and proposal.problems == ()
    assert load_roster(proposal.text) == proposal.roster
    assert len(proposal.roster.overrides) == 1
    assert start_from(BASE) == start_from(BASE) and start_from(BASE) is not start_from(BASE)


@pytest.mark.parametrize(
    ("entered", "field", "message_id", "values"),
    [
        (AdvisorInput("eva", "Eva", "12345", "da"), "phone", "roster.problem.phone", {"value": "12345"}),
        (
            AdvisorInput("eva", "Eva", "+4568300005", "da, xx"),
            "languages",
            "roster.problem.language",
            {"value": "xx"},
        ),
        (
            AdvisorInput("eva", "Eva", "+4568300005", "dansk"),
            "languages",
            "roster.problem.language",
            {"value": "dansk"},
        ),
        (AdvisorInput("eva", "Eva", "+4568300005", ""), "languages", "roster.problem.languages_empty", {}),
        (AdvisorInput("Eva H", "Eva", "+4568300005", "da"), "id", "roster.problem.id", {"value": "Eva H"}),
        (AdvisorInput("bo", "Eva", "+4568300005", "da"), "id", "roster.problem.id_taken", {"value": "bo"}),
        (AdvisorInput("eva", "", "+4568300005", "da"), "name", "roster.problem.required", {}),
    ],
)
def test_an_advisor_the_loader_refuses_names_the_field(
    entered: AdvisorInput, field: str, message_id: str, values: dict[str, str]
) -> None:
    data, path = put_advisor(start_from(BASE), entered, existing=None)
    fields = {k: k for k in ("id", "name", "phone", "languages")}
    proposal = propose(data, path, fields)
    assert proposal.roster is None
    assert [(p.field, p.words.message_id, dict(p.words.values)) for p in proposal.problems] == [
        (field, message_id, values)
    ]


EVA = AdvisorInput("eva", "Eva", "+4568300005", "da")
NIGHT = ("2026-12-08 22:00", "2026-12-09 07:00")


@pytest.mark.parametrize(
    ("change", "key", "message_id", "values"),
    [
        (
            lambda d: put_advisor(d, replace(EVA, skills="Sorg"), existing=None),
            "skills",
            "skill",
            {"value": "Sorg"},
        ),
        (
            lambda d: put_advisor(d, replace(EVA, team="nord"), existing=None),
            "team",
            "team",
            {"value": "nord"},
        ),
        (
            lambda d: add_override(d, off("dalia", "2026-12-08", NIGHT[1])),
            "from",
            "instant",
            {"value": "2026-12-08"},
        ),
        (
            lambda d: add_override(d, off("dalia", "i aften", NIGHT[1])),
            "from",
            "instant",
            {"value": "i aften"},
        ),
        (lambda d: add_override(d, off("zz", *NIGHT)), "off", "unknown_advisor", {"value": "zz"}),
        (
            lambda d: add_override(d, OverrideInput("replace", "dalia", *NIGHT, replaces="dalia")),
            "with",
            "same_advisor",
            {},
        ),
        (lambda d: add_override(d, OverrideInput("add", "anna", *NIGHT)), "layer", "layer_needed", {}),
        (
            lambda d: add_override(d, OverrideInput("add", "anna", *NIGHT, layer="front")),
            "layer",
            "choice",
            {"value": "front"},
        ),
        (lambda d: add_shift(d, ShiftInput("primary", "anna", (), "07:00", "15:00")), "days", "days", {}),
        (
            lambda d: add_shift(d, ShiftInput("primary", "anna", ("mon", "fun"), "07:00", "15:00")),
            "days",
            "days",
            {},
        ),
        (
            lambda d: add_shift(d, ShiftInput("primary", "anna", ("mon",), "25:00", "15:00")),
            "start",
            "clock",
            {"value": "25:00"},
        ),
        (
            lambda d: set_holidays(d, HolidayInput("normal", False, "2026-13-01")),
            "extra_dates",
            "date",
            {"value": "2026-13-01"},
        ),
    ],
)
def test_each_worded_problem_is_reached_from_the_loader(
    change: Callable[[dict[str, Any]], tuple[dict[str, Any], str]],
    key: str,
    message_id: str,
    values: dict[str, str],
) -> None:
    """The form's Danish problems are the loader's English ones read back: a reworded loader message must fail
    here, not fall back to "Vagtplanen siger: ..." in English on the form."""
    data, path = change(start_from(BASE))
    proposal = propose(data, path, {key: f"field-{key}"})
    assert proposal.roster is None
    assert [(p.field, p.words.message_id, dict(p.words.values)) for p in proposal.problems] == [
        (f"field-{key}", f"roster.problem.{message_id}", values)
    ]


def test_an_override_ending_before_it_starts_is_refused_on_the_to_field() -> None:
    _, proposal = with_override(off("dalia", "2026-12-08 22:00", "2026-12-08 21:00"))
    assert proposal.roster is None  # type: ignore[attr-defined]
    (problem,) = proposal.problems  # type: ignore[attr-defined]
    assert (problem.field, problem.words.message_id) == ("to_date", "roster.problem.end_before_start")


def test_two_covers_for_the_same_shift_are_refused_as_an_overlap() -> None:
    cover = OverrideInput("replace", "anna", "2026-12-08 22:00", "2026-12-09 07:00", replaces="dalia")
    other = OverrideInput("replace", "bo", "2026-12-09 01:00", "2026-12-09 03:00", replaces="dalia")
    _, proposal = with_override(cover, other)
    (problem,) = proposal.problems  # type: ignore[attr-defined]
    assert problem.field is None
    assert problem.words.message_id == "roster.problem.overlap"
    assert text(problem.words.message_id, "da", **problem.words.values).startswith(
        "Der er allerede en afløsning for dalia"
    )


def test_an_unknown_problem_is_still_shown_in_full() -> None:
    data = start_from(BASE)
    data["shifts"]["primary"][0]["start"] = "25:00"
    proposal = propose(data)  # no path: nothing to tie it to
    (problem,) = proposal.problems
    assert problem.field is None and problem.words.message_id == "roster.problem.other"
    assert "shifts.primary[0].start '25:00' is not a time" in str(problem.words.values["problem"])


def test_removing_an_override_and_the_summary() -> None:
    data, _ = add_override(start_from(BASE), off("dalia", "2026-12-08 22:00", "2026-12-09 07:00"))
    with_one = propose(data).roster
    assert with_one is not None
    assert summary(BASE, with_one) == "advisors +0 ~0 -0; shifts +0 -0; overrides +1 -0"
    without = propose(remove_override(data, 0)).roster
    assert without == BASE
    with pytest.raises(IndexError):
        remove_override(data, 5)


def test_subtract() -> None:
    a = [(cph(2026, 1, 1, 0), cph(2026, 1, 1, 10)), (cph(2026, 1, 1, 12), cph(2026, 1, 1, 14))]
    b = [(cph(2026, 1, 1, 2), cph(2026, 1, 1, 3)), (cph(2026, 1, 1, 9), cph(2026, 1, 1, 13))]
    assert subtract(a, b) == [
        (cph(2026, 1, 1, 0), cph(2026, 1, 1, 2)),
        (cph(2026, 1, 1, 3), cph(2026, 1, 1, 9)),
        (cph(2026, 1, 1, 13), cph(2026, 1, 1, 14)),
    ]
    assert subtract(a, []) == a and subtract([], b) == []


def test_the_preview_lists_whose_shifts_appear_and_disappear_by_day() -> None:
    sick = off("dalia", "2026-12-08 22:00", "2026-12-09 07:00")
    cover = OverrideInput("replace", "anna", "2026-12-08 22:00", "2026-12-09 07:00", replaces="dalia")
    _, proposal = with_override(sick, cover)
    after = proposal.roster  # type: ignore[attr-defined]
    start, end = period(cph(2026, 12, 7, 12))
    assert start == cph(2026, 12, 7) and end == cph(2026, 12, 21)
    (day,) = changes(BASE, after, start, end)
    assert day.day == date(2026, 12, 8)
    assert [(c.advisor_id, c.layer, c.appeared, c.start, c.end) for c in day.changes] == [
        ("dalia", Layer.PRIMARY, False, cph(2026, 12, 8, 22), cph(2026, 12, 9, 7)),
        ("anna", Layer.PRIMARY, True, cph(2026, 12, 8, 22), cph(2026, 12, 9, 7)),
    ]


def test_a_sick_night_warns_of_the_gap_and_the_lost_language_naming_the_hours() -> None:
    _, proposal = with_override(off("dalia", "2026-12-08 22:00", "2026-12-09 07:00"))
    after = proposal.roster  # type: ignore[attr-defined]
    found = warnings(BASE, after, cph(2026, 12, 7), cph(2026, 12, 21), CoverageHours())
    assert [w.kind for w in found] == [WarningKind.LANGUAGE]  # bo is backup: no gap in primary-or-backup
    assert found[0].words("da") == (
        "Ingen på vagt taler arabisk natten tirsdag 8. dec. kl. 22:00–07:00 (9 t 0 min)."
    )
    assert found[0].words("en") == (
        "Nobody on call speaks Arabic on the night of Tuesday 8 Dec 22:00–07:00 (9 h 0 min)."
    )


def test_only_new_gaps_warn() -> None:
    no_backup = load_roster(
        NIGHTS.replace('    - {advisor: bo, days: daily, start: "07:00", end: "07:00"}\n', "")
    )
    data, path = add_override(start_from(no_backup), off("dalia", "2026-12-08 23:00", "2026-12-09 02:00"))
    after = propose(data, path).roster
    assert after is not None
    found = [
        w
        for w in warnings(no_backup, after, cph(2026, 12, 7), cph(2026, 12, 21))
        if w.kind is WarningKind.GAP
    ]
    assert [(w.start, w.end) for w in found] == [(cph(2026, 12, 8, 23), cph(2026, 12, 9, 2))]
    assert (
        found[0].words("da")
        == "Hul i vagtplanen: ingen har vagt tirsdag 8. dec. kl. 23:00–02:00 (3 t 0 min)."
    )
    # The same change again on top: the gap is not new any more.
    assert [
        w for w in warnings(after, after, cph(2026, 12, 7), cph(2026, 12, 21)) if w.kind is WarningKind.GAP
    ] == []


@pytest.mark.parametrize(
    ("night", "words", "length"),
    [
        # The October night is an hour longer (clocks go back at 03:00), the March night an hour shorter.
        (date(2026, 10, 24), "lørdag 24. okt. kl. 22:00–07:00 (10 t 0 min)", 10),
        (date(2026, 3, 28), "lørdag 28. mar. kl. 22:00–07:00 (8 t 0 min)", 8),
        (date(2026, 12, 8), "tirsdag 8. dec. kl. 22:00–07:00 (9 t 0 min)", 9),
    ],
)
def test_a_night_gap_names_its_copenhagen_hours_on_the_dst_nights(
    night: date, words: str, length: int
) -> None:
    no_backup = load_roster(
        NIGHTS.replace('    - {advisor: bo, days: daily, start: "07:00", end: "07:00"}\n', "")
    )
    nxt = date.fromordinal(night.toordinal() + 1)
    data, path = add_override(start_from(no_backup), off("dalia", f"{night} 22:00", f"{nxt} 07:00"))
    after = propose(data, path).roster
    assert after is not None
    look_from, look_to = cph(night.year, night.month, night.day), cph(nxt.year, nxt.month, nxt.day, 12)
    (gap,) = [w for w in warnings(no_backup, after, look_from, look_to) if w.kind is WarningKind.GAP]
    assert (gap.end - gap.start).total_seconds() == length * 3600
    assert gap.words("da") == f"Hul i vagtplanen: ingen har vagt {words}."


def test_span_words_over_more_than_a_night_names_both_days() -> None:
    words = span_words(cph(2026, 12, 8, 22), cph(2026, 12, 10, 7), "da")
    assert words == "tirsdag 8. dec. kl. 22:00 – torsdag 10. dec. kl. 07:00 (33 t 0 min)"


def test_an_override_overlapping_another_for_the_same_advisor_warns() -> None:
    sick = off("dalia", "2026-12-08 22:00", "2026-12-10 07:00")
    data, _ = add_override(start_from(BASE), sick)
    before = propose(data).roster
    assert before is not None
    extra = OverrideInput("add", "dalia", "2026-12-09 12:00", "2026-12-09 16:00", layer="backup")
    data, path = add_override(data, extra)
    after = propose(data, path).roster
    assert after is not None
    found = [
        w
        for w in warnings(before, after, cph(2026, 12, 7), cph(2026, 12, 21))
        if w.kind is WarningKind.OVERLAP
    ]
    assert [(w.start, w.end, w.advisor) for w in found] == [
        (cph(2026, 12, 9, 12), cph(2026, 12, 9, 16), "Dalia Prøve")
    ]
    assert "Overlapper en anden undtagelse for Dalia Prøve: onsdag 9. dec. kl. 12:00–16:00" in found[0].words(
        "da"
    )


def test_the_warning_period_reaches_the_end_of_a_changed_override() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    data, path = add_override(start_from(BASE), off("dalia", "2027-02-01 22:00", "2027-02-02 07:00"))
    after = propose(data, path).roster
    assert after is not None
    assert warning_period(BASE, after, now) == (now, cph(2027, 2, 2, 7))
    assert warning_period(BASE, BASE, now)[1] == datetime(2026, 12, 15, tzinfo=UTC)
    assert isinstance(RosterWarning(WarningKind.GAP, now, now).words("en"), str)


def test_a_swap_becomes_a_cover_override_for_that_shift_only() -> None:
    (first, *_) = shifts_of(BASE, ["dalia"], cph(2026, 12, 8, 12), cph(2026, 12, 10))
    assert (first.advisor_id, first.layer, first.start, first.end) == (
        "dalia",
        Layer.PRIMARY,
        cph(2026, 12, 8, 22),
        cph(2026, 12, 9, 7),
    )
    data, path = add_override(start_from(BASE), cover_input(first, "bo", "swap #1"))
    after = propose(data, path).roster
    assert after is not None
    (o,) = after.overrides
    assert (o.advisor_id, o.replaces, o.layer, o.start, o.end) == (
        "bo",
        "dalia",
        Layer.PRIMARY,
        first.start,
        first.end,
    )
    # A night she is off is not offered.
    data, _ = add_override(start_from(BASE), off("dalia", "2026-12-08 22:00", "2026-12-09 07:00"))
    sick = propose(data).roster
    assert sick is not None
    assert [s.start for s in shifts_of(sick, ["dalia"], cph(2026, 12, 8, 12), cph(2026, 12, 10))] == [
        cph(2026, 12, 9, 22)
    ]


def test_cover_for_a_sick_advisor_is_no_overlap() -> None:
    sick = off("dalia", "2026-12-08 22:00", "2026-12-09 07:00")
    cover = OverrideInput("replace", "anna", "2026-12-08 22:00", "2026-12-09 07:00", replaces="dalia")
    _, proposal = with_override(sick, cover)
    after = proposal.roster  # type: ignore[attr-defined]
    found = warnings(BASE, after, cph(2026, 12, 7), cph(2026, 12, 21))
    assert [w.kind for w in found] == [WarningKind.LANGUAGE]  # dalia's Arabic goes with her; no overlap

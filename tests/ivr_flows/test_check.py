"""The checker: one broken fixture flow per defect, each reported once, at its line, with the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr_flows.check import Problem, check_flows
from ivr_flows.flow_file import MAIN_FLOW
from ivr_flows.prompts import PROMPTS_DIR as PROMPTS
from ivr_flows.prompts import PromptCatalogue

from .conftest import ADAPTER_VALUES, FIXTURES, SPOKEN

DA, DA_SO = {"da"}, {"da", "so"}

DEFECTS = [
    ("unknown_target", DA, "start",
     "key 2 leads to 'leave_mesage', which is not a node; add a node 'leave_mesage' or lead it to an existing node"),
    ("unreachable", DA, "old_menu",
     "cannot be reached from the start 'start'; lead a key or an exit to it, or remove it"),
    ("dead_end", DA, "to_human",
     "dead end: a connect node needs `results: {no_answer: <node>}`, or the call stops here"),
    ("duplicate_key", DA, "start",
     "key 1 is used twice in this menu (also on line 11); give each choice its own key"),
    ("missing_prompt", DA, "to_human", "prompt 'connect.hold' is missing in da: add it to prompts/da.yaml"),
    ("missing_audio", DA_SO, "bye",
     "the recording so/goodbye.unrecorded.mp3 is missing from the audio folder; record the text of "
     "'goodbye.unrecorded' in prompts/so.yaml and save it there"),
    ("hangup_without_help", DA, "start",
     "key 3 leads to the goodbye 'bye' before the caller has been helped (start -> bye); lead it to a connect, a "
     "callback, a voicemail or information sent first"),
    ("loop", DA, "intro_a",
     "the call loops intro_a -> intro_b -> intro_a without waiting for the caller; put a menu or an action in "
     "the loop"),
    ("overflow_menu", DA, "",
     "the overflow 'start' leads to 'start', which waits for keys; after 30 menus a caller must reach a human or "
     "voicemail without another menu"),
    ("unknown_placeholder", DA, "start",
     "prompt 'greeting.typo' in da (prompts/da.yaml:5) has {servce_name}, which nothing fills in; use one of "
     "service_name, or declare it under `placeholders:`"),
    ("recorded_placeholder", DA_SO, "start",
     "prompt 'greeting.named' in so (prompts/so.yaml:6) has {service_name}, but so is recorded and a recording "
     "cannot say changing values; reword the prompt without it"),
    ("unknown_start", DA, "", "start 'begin' is not a node; name the node that every call begins at"),
    ("malformed", DA, "to_human", "unknown field 'reslts' in a connect node; expected action, results, say, with"),
]  # fmt: skip


@pytest.fixture(scope="module")
def fixture_prompts() -> PromptCatalogue:
    return PromptCatalogue.load(FIXTURES / "prompts")


def _defect_line(path: Path) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if line.endswith("# defect"))


@pytest.mark.parametrize(("fixture", "enabled", "node", "message"), DEFECTS, ids=[d[0] for d in DEFECTS])
def test_each_defect_is_reported_once_at_its_line_with_the_fix(
    fixture_prompts, languages, fixture, enabled, node, message
):
    path = FIXTURES / f"{fixture}.yaml"

    problems = check_flows([path], fixture_prompts, languages.only(enabled), FIXTURES / "audio")

    assert problems == [Problem(str(path), _defect_line(path), node, message)]


def test_the_fixtures_differ_from_a_flow_with_no_problems(fixture_prompts, languages):
    assert (
        check_flows([FIXTURES / "valid.yaml"], fixture_prompts, languages.only(DA_SO), FIXTURES / "audio")
        == []
    )


def test_a_problem_reads_file_line_node_message():
    assert (
        str(Problem("main.yaml", 12, "main_menu", "dead end")) == "main.yaml:12: node 'main_menu': dead end"
    )
    assert (
        str(Problem("main.yaml", 3, "", "start 'x' is not a node")) == "main.yaml:3: start 'x' is not a node"
    )


def test_the_shipped_flow_has_no_problems_in_any_language_spoken_by_twilio(catalogue, languages):
    spoken = [code for code, lang in languages.by_code.items() if lang.mode == "tts"]

    assert check_flows([MAIN_FLOW], catalogue, languages.only(spoken)) == []


def test_switching_somali_on_lists_every_missing_recording_and_nothing_else(
    catalogue, flow, languages, tmp_path
):
    used = {
        ref.key
        for node in flow.nodes.values()
        for ref in (*node.say, node.on_silence, node.on_invalid)
        if ref
    }
    used |= {ref.key for ref in flow.fallback_prompts}
    used |= {*flow.number_entry.prompts(), *flow.number_entry.digit_prompts()}

    problems = check_flows([MAIN_FLOW], catalogue, languages.only(languages.by_code), tmp_path)

    assert all(p.message.startswith("the recording so/") for p in problems)
    assert {p.message.split()[2] for p in problems} == {f"so/{key}.mp3" for key in used}
    assert len(problems) == len(used)


def _line_of(text: str, path: Path) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def test_a_callback_window_the_adapter_does_not_know_is_named_where_the_flow_asks_for_it(
    catalogue, languages
):
    windows = ["asap", "evening", "tomorrow_morning", "tomorrow_daytime"]

    problems = check_flows(
        [MAIN_FLOW], catalogue, languages.only(["da"]), windows=windows, windows_at="the windows"
    )

    assert problems == [
        Problem(
            str(MAIN_FLOW),
            _line_of("with: {window: this_evening", MAIN_FLOW),
            "callback_this_evening",
            "callback window 'this_evening' is not one of the windows in the windows: asap, evening, "
            "tomorrow_morning, tomorrow_daytime; use one of them, or add it there",
        )
    ]


def test_placeholders_the_adapter_does_not_fill_in_are_named_in_the_flow_and_the_prompts(
    catalogue, languages
):
    values = {name for name in ADAPTER_VALUES if not name.startswith("this_evening_")}

    problems = check_flows([MAIN_FLOW], catalogue, languages.only(["da", "en"]), values=values)

    declared = [p for p in problems if p.message.startswith("placeholder")]
    assert [(p.line, p.message.split(",")[0]) for p in declared] == [
        (_line_of("  this_evening_start:", MAIN_FLOW), "placeholder 'this_evening_start' is declared"),
        (_line_of("  this_evening_end:", MAIN_FLOW), "placeholder 'this_evening_end' is declared"),
    ]
    used = {(p.node, p.message.split(" has ")[0]) for p in problems if p not in declared}
    assert used == {
        (
            node,
            f"prompt {key!r} in {lang} (prompts/{lang}.yaml:{_line_of(f'{key}:', PROMPTS / f'{lang}.yaml')})",
        )
        for node, key in (("question_callback_menu", "callback.menu"),)  # the first node that says it
        for lang in ("da", "en")
    }
    assert all(
        "which nothing fills in; use one of callback_by, next_open" in p.message
        for p in problems
        if p not in declared
    )


def test_the_shipped_flow_and_the_values_the_adapter_fills_in_agree(catalogue, languages):
    assert check_flows([MAIN_FLOW], catalogue, languages.only(SPOKEN), values=set(ADAPTER_VALUES)) == []

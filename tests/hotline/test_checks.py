"""`hotline check` holds config.yaml against the call flow and its prompts: a mismatch is a problem with the file
and line to change, found before a caller meets it."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hotline.cli.main import main
from hotline.config.prompt_values import value_names
from hotline.config.settings import load_settings
from hotline.twilio.render import placeholder_values
from ivr_flows.flow_file import MAIN_FLOW
from ivr_flows.prompts import PROMPTS_DIR, PromptCatalogue

REPO = Path(__file__).resolve().parents[2]

RENAMED_WINDOW = """\
callbacks:
  windows:
    - key: asap
    - {key: evening, start: "17:00", end: "21:00"}
    - {key: tomorrow_morning, start: "07:00", end: "09:00"}
    - {key: tomorrow_daytime, start: "09:00", end: "15:00"}
"""


def _check(tmp_path: Path, config: str | None) -> Result:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
    path = REPO / "config.yaml"
    if config is not None:
        path = tmp_path / "config.yaml"
        path.write_text(config, encoding="utf-8")
    return CliRunner().invoke(main, ["check"], env={**env, "HOTLINE_CONFIG": str(path)})


def _problems(result: Result) -> list[str]:
    return [
        line.removeprefix("problem: ") for line in result.output.splitlines() if line.startswith("problem: ")
    ]


def _line_of(text: str, path: Path) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


def test_the_shipped_configuration_flow_and_prompts_agree(tmp_path: Path) -> None:
    result = _check(tmp_path, None)

    assert result.exit_code == 0, result.output
    assert _problems(result) == []


def test_a_renamed_callback_window_fails_the_check_naming_the_flow_and_the_prompts(tmp_path: Path) -> None:
    result = _check(tmp_path, RENAMED_WINDOW)

    assert result.exit_code == 1
    problems = _problems(result)
    flow = "ivr_flows/flows/main.yaml"
    node_line = _line_of("with: {window: this_evening", MAIN_FLOW)
    assert (
        f"{flow}:{node_line}: node 'callback_this_evening': callback window 'this_evening' is not one of the "
        f"windows in callbacks.windows ({tmp_path / 'config.yaml'}:2): asap, evening, tomorrow_morning, "
        "tomorrow_daytime; use one of them, or add it there"
    ) in problems
    menu_line = _line_of("callback.menu:", PROMPTS_DIR / "da.yaml")
    assert any(
        line.startswith(
            f"{flow}:{_line_of('  question_callback_menu:', MAIN_FLOW) + 1}: node 'question_callback_menu': "
        )
        and f"prompt 'callback.menu' in da (prompts/da.yaml:{menu_line}) has {{this_evening_start}}, which "
        "nothing fills in; use one of callback_by, evening_end, evening_start,"
        in line
        for line in problems
    ), problems
    declared = _line_of("  this_evening_start:", MAIN_FLOW)
    assert any(
        line.startswith(f"{flow}:{declared}: placeholder 'this_evening_start' is declared")
        for line in problems
    )


def test_a_language_enabled_without_prompts_is_a_problem_at_its_line(tmp_path: Path) -> None:
    config = (
        "languages:\n"
        "  enabled: [da, en, fr]\n"
        "  voices:\n"
        "    fr: {name: Français, voice: voice-fr, say_language: fr-FR}\n"
    )
    result = _check(tmp_path, config)

    assert result.exit_code == 1
    assert _problems(result) == [
        f"{tmp_path / 'config.yaml'}:2: languages.enabled lists 'fr', but it has no prompts "
        "(ivr_flows/prompts/fr.yaml does not exist); translate the prompts first, or remove it from the list"
    ]


def test_the_values_the_renderer_fills_in_are_the_ones_the_check_knows() -> None:
    settings = load_settings(environ={}, config_path=REPO / "config.yaml")
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)

    values = placeholder_values(
        settings, PromptCatalogue.load(), None, now, "da", callback_due=(now, now + timedelta(hours=4))
    )

    assert set(values) == value_names(settings.file)
    assert (values["this_evening_start"], values["this_evening_end"]) == ("17", "21")
    assert re.fullmatch(r"\d{1,2}", values["tomorrow_morning_start"])


@pytest.mark.parametrize("key", ["evening", "this_evening"])
def test_window_hours_are_named_after_the_configured_keys(key: str, tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"callbacks:\n  windows:\n    - key: asap\n    - {{key: {key}, start: '18:00', end: '20:00'}}\n"
    )
    settings = load_settings(environ={}, config_path=path)

    values = placeholder_values(
        settings, PromptCatalogue.load(), None, datetime(2026, 3, 2, 9, tzinfo=UTC), "da"
    )

    assert (values[f"{key}_start"], values[f"{key}_end"]) == ("18", "20")

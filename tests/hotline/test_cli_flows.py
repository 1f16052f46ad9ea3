"""`hotline flows check` and `hotline flows graph`: the call flow checked and drawn with the configured languages."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotline.cli.main import main

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def env() -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
    return {**clean, "HOTLINE_CONFIG": str(REPO / "config.yaml")}


def test_the_shipped_flow_has_no_problems(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["flows", "check"], env=env)

    assert result.exit_code == 0, result.output
    assert "ok: the call flow has no problems" in result.output


def test_checking_a_recorded_language_before_switching_it_on_lists_its_recordings(
    env: dict[str, str],
) -> None:
    result = CliRunner().invoke(main, ["flows", "check", "--languages", "da,so"], env=env)

    assert result.exit_code == 0, result.output
    assert "warning: ivr_flows/flows/main.yaml:" in result.output
    assert "the recording so/menu.main.mp3 is missing" in result.output


def test_an_unknown_language_is_a_problem(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["flows", "check", "--languages", "da,fr"], env=env)

    assert result.exit_code == 1
    assert "unknown language 'fr'" in result.output
    assert "add it to languages.voices in config.yaml first" in result.output


def test_the_graph_is_drawn_with_the_configured_languages(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["flows", "graph", "--language", "en"], env=env)

    assert result.exit_code == 0, result.output
    assert result.output.startswith("flowchart TD\n")
    assert "«Press 1 if you need advice now" in result.output

"""create_app is cheap to call again: the prompts and the call flow are parsed once per process, not per app."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from hotline.app import create_app
from hotline.config.settings import DEFAULTS_FILE
from ivr_flows import flow_file, prompts
from ivr_flows.flow_file import MAIN_FLOW
from ivr_flows.prompts import PROMPTS_DIR
from tests.helpers import REPO


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of each YAML document parsed from now on (yaml.load, which safe_load calls too)."""
    files = [REPO / "config.yaml", DEFAULTS_FILE, MAIN_FLOW, *sorted(PROMPTS_DIR.glob("*.yaml"))]
    names = {path.read_text(encoding="utf-8"): path.name for path in files}
    seen: list[str] = []
    real_load = yaml.load

    def counting_load(stream: Any, Loader: Any) -> Any:
        seen.append(names.get(stream, "another document") if isinstance(stream, str) else "a stream")
        return real_load(stream, Loader)

    monkeypatch.setattr(yaml, "load", counting_load)
    return seen


def test_a_second_app_parses_only_its_config(settings_mapping: dict[str, Any], parsed: list[str]) -> None:
    prompts._parse_catalogue.cache_clear()  # as in a new process
    flow_file._parse_flow.cache_clear()
    apps = [create_app(settings_mapping)]
    prompt_files = sorted(path.name for path in PROMPTS_DIR.glob("*.yaml"))
    assert sorted(parsed) == sorted(["config.yaml", "defaults.yaml", "main.yaml", *prompt_files])  # each once
    parsed.clear()
    apps.append(create_app(settings_mapping))
    assert sorted(parsed) == ["config.yaml", "defaults.yaml"]  # settings: per app; prompts and flow: shared
    first, second = (app.extensions["hotline"] for app in apps)
    assert second.prompts is first.prompts and second.flow is first.flow
    for app in apps:
        app.extensions["hotline"].dispose()

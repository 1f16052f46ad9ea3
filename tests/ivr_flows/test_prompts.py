"""The prompt catalogue: read once per content, so every app in a process shares it, and read again on a change."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr_flows.prompts import PromptCatalogue, PromptError


def _write(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(f"language: {name[:2]}\nprompts:\n  hello: {text}\n", encoding="utf-8")


def test_an_unchanged_catalogue_is_shared_and_a_changed_one_read_again(tmp_path: Path) -> None:
    _write(tmp_path, "da.yaml", "Hej.")
    first = PromptCatalogue.load(tmp_path)
    assert PromptCatalogue.load(tmp_path) is first
    _write(tmp_path, "da.yaml", "Dav.")  # the same size, maybe within the same mtime tick: still seen
    assert PromptCatalogue.load(tmp_path).text("da", "hello") == "Dav."
    _write(tmp_path, "en.yaml", "Hello.")
    assert PromptCatalogue.load(tmp_path).languages() == ["da", "en"]
    assert PromptCatalogue.load(tmp_path, default_language="en").default_language == "en"


def test_a_broken_file_is_named_every_time_it_is_read(tmp_path: Path) -> None:
    (tmp_path / "da.yaml").write_text("language: da\nprompts: [\n", encoding="utf-8")
    for _ in range(2):  # a failure is not cached as a success
        with pytest.raises(PromptError) as caught:
            PromptCatalogue.load(tmp_path)
        assert str(caught.value).startswith(
            f"{tmp_path / 'da.yaml'}: not valid YAML: while parsing a flow node"
        )
        assert "expected the node content, but found '<stream end>'" in str(caught.value)  # worded as always

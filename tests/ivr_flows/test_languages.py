"""Language settings: who speaks what, and how. The hotline builds them from config.yaml; the engine reads none."""

from __future__ import annotations

import pytest

from ivr_flows.languages import Language, LanguageError, Languages


def test_the_test_languages_have_somali_recorded_and_off(languages):
    assert languages.default == "da"
    assert languages.get("so").mode == "audio"
    assert "so" not in languages.enabled()  # until it is recorded
    assert all(lang.voice and lang.locale for lang in languages.by_code.values() if lang.mode == "tts")


def test_config_can_switch_languages_on_and_off_but_never_the_default(languages):
    chosen = languages.only(["en", "so"])

    assert chosen.enabled() == {"da", "en", "so"}
    assert chosen.recorded() == {"so"}
    assert chosen.source == languages.source


def test_an_unknown_language_is_named_with_where_to_add_it(languages):
    with pytest.raises(LanguageError, match=r"unknown language 'fr'.*add it to the test languages first"):
        languages.only(["fr"])


@pytest.mark.parametrize(
    ("default", "given", "message"),
    [
        ("so", [Language("so", "Soomaali", "audio")], "the default language 'so' must be listed, enabled"),
        (
            "da",
            [Language("en", "English", "tts", "en-GB", "voice-en")],
            "the default language 'da' must be listed",
        ),
        (
            "da",
            [Language("da", "Dansk", "tts", "da-DK", "voice-da", enabled=False)],
            "the default language 'da' must be listed, enabled",
        ),
        (
            "da",
            [Language("da", "Dansk", "tts")],
            "language 'da' is spoken by Twilio: give it a voice and a locale",
        ),
    ],
)
def test_malformed_settings_are_named(default, given, message):
    with pytest.raises(LanguageError, match=f"^config: {message}"):
        Languages.create(default, given, source="config")


def test_the_hotline_builds_settings_from_its_own_configuration():
    languages = Languages.create(
        "da",
        [Language("da", "Dansk", "tts", "da-DK", "voice-da"), Language("so", "Soomaali", "audio")],
    )

    assert languages.recorded() == {"so"}
    assert languages.get("so").audio_path("menu.main") == "so/menu.main.mp3"
    with pytest.raises(LanguageError, match="the default language 'so' must be listed, enabled and spoken"):
        Languages.create("so", languages.by_code.values())

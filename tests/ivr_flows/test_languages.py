"""Language settings: who speaks what, and how."""

from __future__ import annotations

import pytest

from ivr_flows.languages import Language, LanguageError, Languages


def test_the_shipped_languages():
    languages = Languages.load()

    assert languages.default == "da"
    assert set(languages.by_code) == {"da", "en", "ar", "tr", "uk", "pl", "so"}
    assert languages.get("so").mode == "audio"
    assert "so" not in languages.enabled()  # until it is recorded
    assert all(lang.voice and lang.locale for lang in languages.by_code.values() if lang.mode == "tts")


def test_config_can_switch_languages_on_and_off_but_never_the_default():
    languages = Languages.load().only(["en", "so"])

    assert languages.enabled() == {"da", "en", "so"}
    assert languages.recorded() == {"so"}


def test_an_unknown_language_in_config_is_named():
    with pytest.raises(LanguageError, match=r"unknown language 'fr'.*add it to ivr_flows/languages\.yaml"):
        Languages.load().only(["fr"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "default: so\nlanguages:\n  so: {mode: audio}\n",
            "the default language 'so' must be listed, enabled",
        ),
        (
            "default: da\nlanguages:\n  da: {mode: tts}\n",
            "language 'da' is spoken by Twilio: give it a `locale`",
        ),
        (
            "default: da\nlanguages:\n  da: {mode: video}\n",
            "language 'da' has mode 'video'; use `tts` or `audio`",
        ),
        ("default: da\n", "expected `default: <code>` and a `languages:` mapping"),
    ],
)
def test_malformed_settings_are_named(tmp_path, text, message):
    path = tmp_path / "languages.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(LanguageError, match=message):
        Languages.load(path)


def test_the_hotline_can_build_settings_from_its_own_configuration():
    languages = Languages.create(
        "da",
        [Language("da", "Dansk", "tts", "da-DK", "Polly.Naja"), Language("so", "Soomaali", "audio")],
    )

    assert languages.recorded() == {"so"}
    assert languages.get("so").audio_path("menu.main") == "so/menu.main.mp3"
    with pytest.raises(LanguageError, match="the default language 'so' must be listed, enabled and spoken"):
        Languages.create("so", languages.by_code.values())

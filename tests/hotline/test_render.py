"""One renderer, one table of voices: every `<Say>` and `<Play>` the hotline sends takes its voice and language from
config.yaml's `languages.voices`, through hotline.twilio.render."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from twilio.twiml.voice_response import VoiceResponse

from hotline.app import create_app
from hotline.config.settings import load_settings
from hotline.config.voices import languages_from_settings
from hotline.twilio.render import say, speak
from ivr_flows.languages import Languages
from ivr_flows.prompts import PromptCatalogue
from tests.helpers import TwilioSigner, call_params

REPO = Path(__file__).resolve().parents[2]
RENDERER = REPO / "hotline" / "twilio" / "render.py"


def _writes_speech(node: ast.AST) -> bool:
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Attribute) and node.func.attr in ("say", "play")
    if isinstance(node, ast.ImportFrom) and node.module == "twilio.twiml.voice_response":
        return bool({alias.name for alias in node.names} & {"Say", "Play"})
    return False


def _speech_calls(path: Path) -> list[str]:
    """`x.say(...)` / `x.play(...)` calls and imports of twilio's Say/Play in a module, as file:line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [f"{path.relative_to(REPO)}:{node.lineno}" for node in ast.walk(tree) if _writes_speech(node)]


def test_only_the_renderer_writes_say_or_play() -> None:
    elsewhere = [
        hit
        for path in sorted((REPO / "hotline").rglob("*.py"))
        if path != RENDERER
        for hit in _speech_calls(path)
    ]
    assert elsewhere == []
    assert _speech_calls(RENDERER)  # the check looks at the right thing


@pytest.fixture(scope="module")
def prompts() -> PromptCatalogue:
    return PromptCatalogue.load()


@pytest.fixture(scope="module")
def languages(prompts: PromptCatalogue) -> Languages:
    """The shipped configuration's languages (Somali known, but not offered: it is not recorded)."""
    return languages_from_settings(load_settings(environ={}, config_path=REPO / "config.yaml"), prompts)


def _spoken(response: VoiceResponse) -> list[tuple[str, str | None, str | None]]:
    """(tag, voice, language) of each <Say>/<Play>, in order."""
    xml = str(response)
    return [
        (tag, voice, language)
        for tag, attributes in re.findall(r"<(Say|Play)([^>]*)>", xml)
        for voice in [(re.search(r'voice="([^"]*)"', attributes) or [None, None])[1]]
        for language in [(re.search(r'language="([^"]*)"', attributes) or [None, None])[1]]
    ]


def test_a_prompt_is_said_in_its_languages_voice(prompts: PromptCatalogue, languages: Languages) -> None:
    response = VoiceResponse()
    speak(response, prompts, languages, "en", "connect.wait")
    speak(response, prompts, languages, "ar", "connect.wait")
    english, arabic = languages.get("en"), languages.get("ar")
    assert _spoken(response) == [("Say", english.voice, english.locale), ("Say", arabic.voice, arabic.locale)]
    assert prompts.text("en", "connect.wait") in str(response)


@pytest.mark.parametrize("code", ["so", "fr", ""])
def test_a_language_callers_are_not_offered_is_spoken_in_the_default_language(
    prompts: PromptCatalogue, languages: Languages, code: str
) -> None:
    response = VoiceResponse()
    speak(response, prompts, languages, code, "connect.wait")
    danish = languages.get("da")
    assert _spoken(response) == [("Say", danish.voice, danish.locale)]
    assert prompts.text("da", "connect.wait") in str(response)


def test_a_recorded_language_is_played_from_its_recording(
    prompts: PromptCatalogue, languages: Languages
) -> None:
    recorded = languages.only(["so"])
    response = VoiceResponse()
    speak(response, prompts, recorded, "so", "connect.wait", base="https://hotline.example")
    assert _spoken(response) == [("Play", None, None)]
    assert "<Play>https://hotline.example/audio/so/connect.wait.mp3</Play>" in str(response)
    # A text made up on the spot cannot be played: it is said in the default language's voice.
    say(response, recorded, "so", "Nummeret kan ikke ringes op.")
    danish = languages.get("da")
    assert _spoken(response)[-1] == ("Say", danish.voice, danish.locale)


VOICES = {"da": "test-voice-da", "en": "test-voice-en"}


@pytest.fixture
def revoiced(settings_mapping: dict[str, Any]) -> Iterator[TwilioSigner]:
    """The app with Danish and English voices changed in its configuration."""
    voices = {
        code: {"name": code, "voice": voice, "say_language": f"{code}-TEST"} for code, voice in VOICES.items()
    }
    config = {**settings_mapping["config"], "languages": {"voices": voices}}
    application = create_app({**settings_mapping, "config": config})
    yield TwilioSigner(application.test_client(), application.extensions["hotline"].signing_secret)
    application.extensions["hotline"].dispose()


@pytest.mark.parametrize("path", ["/twilio/voice", "/twilio/voice/fallback"])
def test_the_flow_and_the_fallback_follow_the_configured_voices(revoiced: TwilioSigner, path: str) -> None:
    body = revoiced.post(path, call_params()).get_data(as_text=True)
    said = set(re.findall(r'<Say language="([^"]*)" voice="([^"]*)"', body))
    assert {("da-TEST", "test-voice-da"), ("en-TEST", "test-voice-en")} <= said
    assert "da-DK" not in body and "en-GB" not in body  # the shipped Danish and English voices are not used

"""Speaking prompts with Twilio's `<Say>` (or `<Play>` for languages that use recordings)."""

from __future__ import annotations

from twilio.twiml.voice_response import Gather, VoiceResponse

from hotline.config.sections import LanguageSettings
from ivr_flows.prompts import PromptCatalogue


def speak(
    target: VoiceResponse | Gather,
    prompts: PromptCatalogue,
    languages: LanguageSettings,
    language: str,
    key: str,
    /,
    **values: object,
) -> None:
    """Add the prompt `key` in `language` to `target`, in that language's voice or recording."""
    voice = languages.voices.get(language) or languages.voices[languages.default]
    if voice.mode == "audio":
        target.play(f"/audio/{language}/{key}.mp3")
        return
    target.say(prompts.text(language, key, **values), voice=voice.voice, language=voice.say_language)

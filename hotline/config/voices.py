"""The call flow's languages from config.yaml: the one place that says which voice speaks which language."""

from __future__ import annotations

from pathlib import Path

from hotline.config.settings import Settings
from ivr_flows.languages import AUDIO_DIR, Language, Languages
from ivr_flows.prompts import PromptCatalogue


def recordings_complete(code: str, prompts: PromptCatalogue, audio_dir: Path = AUDIO_DIR) -> bool:
    """True when every prompt of a recorded language has its audio file."""
    keys = prompts.texts.get(code, {})
    return bool(keys) and all((audio_dir / code / f"{key}.mp3").exists() for key in keys)


def languages_from_settings(settings: Settings, prompts: PromptCatalogue) -> Languages:
    """The engine's languages from config.yaml (the one place voices are set).

    A recorded language (`mode: audio`) is offered to callers only once all its recordings exist;
    `hotline check` lists the missing ones.
    """
    config = settings.file.languages
    languages = []
    for code in config.enabled:
        voice = config.voices[code]
        offered = voice.mode == "tts" or recordings_complete(code, prompts)
        languages.append(
            Language(
                code=code,
                name=voice.name,
                mode=voice.mode,
                locale=voice.say_language or "",
                voice=voice.voice or "",
                enabled=offered,
            )
        )
    return Languages.create(config.default, languages, source=settings.config_path or "config.yaml")

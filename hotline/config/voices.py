"""The call's languages from config.yaml: the one table that says which voice speaks which language.

Every prompt the hotline speaks — the call flow, the fallback answer, the advisors' whispers, the callback calls —
goes through `hotline.twilio.render` with the `Languages` built here (`Runtime.languages`).
"""

from __future__ import annotations

from pathlib import Path

from hotline.config.settings import Settings
from ivr_flows.languages import AUDIO_DIR, Language, Languages
from ivr_flows.prompts import PromptCatalogue

SOURCE = "languages.voices in config.yaml"


def recordings_complete(code: str, prompts: PromptCatalogue, audio_dir: Path = AUDIO_DIR) -> bool:
    """True when every prompt of a recorded language has its audio file."""
    keys = prompts.texts.get(code, {})
    return bool(keys) and all((audio_dir / code / f"{key}.mp3").exists() for key in keys)


def languages_from_settings(settings: Settings, prompts: PromptCatalogue) -> Languages:
    """The languages of config.yaml: every language under `voices` is known (a flow may name it); those in
    `enabled` are offered to callers — a recorded one (`mode: audio`) only once all its recordings exist
    (`hotline check` lists the missing ones)."""
    config = settings.file.languages
    languages = [
        Language(
            code=code,
            name=voice.name,
            mode=voice.mode,
            locale=voice.say_language or "",
            voice=voice.voice or "",
            enabled=code in config.enabled and (voice.mode == "tts" or recordings_complete(code, prompts)),
        )
        for code, voice in config.voices.items()
    ]
    return Languages.create(config.default, languages, source=SOURCE)

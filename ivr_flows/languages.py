"""Language settings: which languages the hotline speaks, and how (a Twilio voice, or recorded audio).

The engine reads no language file of its own: the hotline builds `Languages` from its configuration
(`languages:` in config.yaml, see `hotline/config/voices.py`) with `Languages.create`, and the checker narrows the
enabled set with `only`. Tests build theirs the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

AUDIO_DIR = Path(__file__).with_name("audio")

Mode = Literal["tts", "audio"]


class LanguageError(Exception):
    """The language settings are malformed; the message names the file, the language and the fix."""


@dataclass(frozen=True)
class Language:
    """One language: `tts` languages are spoken by Twilio with `voice`/`locale`; `audio` ones are recordings."""

    code: str
    name: str
    mode: Mode = "tts"
    locale: str = ""
    voice: str = ""
    enabled: bool = True

    def audio_path(self, prompt: str) -> str:
        """Where the recording of `prompt` lives, relative to `ivr_flows/audio/`: `so/menu.main.mp3`."""
        return f"{self.code}/{prompt}.mp3"


@dataclass(frozen=True)
class Languages:
    """All known languages, by code, and the default one (always enabled and spoken by Twilio). `source` says
    where they are set, for messages ("config.yaml: languages.voices")."""

    default: str
    by_code: Mapping[str, Language]
    source: str = "languages"

    @classmethod
    def create(cls, default: str, languages: Iterable[Language], source: str = "languages") -> Languages:
        """Settings from `languages` (e.g. built from the hotline's configuration); the default must be spoken."""
        by_code = {language.code: language for language in languages}
        for spoken in by_code.values():
            if spoken.mode == "tts" and not (spoken.locale and spoken.voice):
                raise LanguageError(
                    f"{source}: language {spoken.code!r} is spoken by Twilio: give it a voice and a locale"
                )
        language = by_code.get(default)
        if language is None or not language.enabled or language.mode != "tts":
            raise LanguageError(
                f"{source}: the default language {default!r} must be listed, enabled and spoken by Twilio (mode: tts)"
            )
        return cls(default=default, by_code=by_code, source=source)

    def only(self, codes: Iterable[str]) -> Languages:
        """These settings with exactly `codes` enabled (the default language stays on)."""
        wanted = set(codes) | {self.default}
        unknown = sorted(wanted - set(self.by_code))
        if unknown:
            raise LanguageError(
                f"unknown language {unknown[0]!r}: the languages are {', '.join(sorted(self.by_code))};"
                f" add it to {self.source} first"
            )
        by_code = {code: replace(lang, enabled=code in wanted) for code, lang in self.by_code.items()}
        return Languages(default=self.default, by_code=by_code, source=self.source)

    def get(self, code: str) -> Language | None:
        """The settings of `code`, or None when it is not a known language."""
        return self.by_code.get(code)

    def is_enabled(self, code: str) -> bool:
        """True when `code` is known and switched on."""
        language = self.by_code.get(code)
        return language is not None and language.enabled

    def enabled(self) -> frozenset[str]:
        """The codes of all enabled languages."""
        return frozenset(code for code, lang in self.by_code.items() if lang.enabled)

    def recorded(self) -> frozenset[str]:
        """The codes of enabled languages whose prompts are recordings."""
        return frozenset(code for code, lang in self.by_code.items() if lang.enabled and lang.mode == "audio")

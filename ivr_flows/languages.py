"""Language settings: which languages the hotline speaks, and how (a Twilio voice, or recorded audio).

Read from `ivr_flows/languages.yaml`; the hotline's configuration may narrow the enabled set with `only`, or
build its own with `Languages.create`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import yaml

LANGUAGES_FILE = Path(__file__).with_name("languages.yaml")
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
    """All known languages, by code, and the default one (always enabled and spoken by Twilio)."""

    default: str
    by_code: Mapping[str, Language]

    @classmethod
    def load(cls, path: Path = LANGUAGES_FILE) -> Languages:
        """Read the language settings; raise LanguageError naming the file and language on bad content."""
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise LanguageError(f"{path}: not valid YAML: {exc}") from exc
        raw = data.get("languages") if isinstance(data, dict) else None
        if not isinstance(raw, dict) or not raw:
            raise LanguageError(
                f"{path}: expected `default: <code>` and a `languages:` mapping of code: settings"
            )
        by_code: dict[str, Language] = {}
        for code, settings in raw.items():
            if not isinstance(settings, dict):
                raise LanguageError(
                    f"{path}: language {code!r} needs a mapping with name, mode, locale and voice"
                )
            mode = settings.get("mode", "tts")
            if mode not in ("tts", "audio"):
                raise LanguageError(f"{path}: language {code!r} has mode {mode!r}; use `tts` or `audio`")
            if mode == "tts" and not (settings.get("locale") and settings.get("voice")):
                raise LanguageError(
                    f"{path}: language {code!r} is spoken by Twilio: give it a `locale` and a `voice`"
                )
            by_code[str(code)] = Language(
                code=str(code),
                name=str(settings.get("name", code)),
                mode=mode,
                locale=str(settings.get("locale", "")),
                voice=str(settings.get("voice", "")),
                enabled=bool(settings.get("enabled", True)),
            )
        return cls.create(str(data.get("default", "")), by_code.values(), source=str(path))

    @classmethod
    def create(cls, default: str, languages: Iterable[Language], source: str = "languages") -> Languages:
        """Settings from `languages` (e.g. built from the hotline's configuration); the default must be spoken."""
        by_code = {language.code: language for language in languages}
        language = by_code.get(default)
        if language is None or not language.enabled or language.mode != "tts":
            raise LanguageError(
                f"{source}: the default language {default!r} must be listed, enabled and spoken by Twilio (mode: tts)"
            )
        return cls(default=default, by_code=by_code)

    def only(self, codes: Iterable[str]) -> Languages:
        """These settings with exactly `codes` enabled (the default language stays on)."""
        wanted = set(codes) | {self.default}
        unknown = sorted(wanted - set(self.by_code))
        if unknown:
            raise LanguageError(
                f"unknown language {unknown[0]!r}: the languages are {', '.join(sorted(self.by_code))};"
                " add it to ivr_flows/languages.yaml first"
            )
        by_code = {code: replace(lang, enabled=code in wanted) for code, lang in self.by_code.items()}
        return Languages(default=self.default, by_code=by_code)

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

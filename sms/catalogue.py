"""The SMS catalogue: texts and time phrases per language, read from `sms/templates/<lang>.yaml`.

Each file holds:

- `language:` its code (the file's stem), `name:` the language's own name (its Danish name for staff is
  `language.<code>` in routing/wording/staff.yaml);
- `texts:` what relatives receive, key: text with `{placeholders}`;
- `staff_texts:` what advisors and managers receive (optional outside Danish: staff read Danish);
- `time_phrases:` the words `sms.timephrase` builds "i aften mellem 17 og 21" from (optional: without it the
  Danish phrases are used).

Danish is the reference: another language may leave a key out (Danish is sent instead) but may not invent a key or
a placeholder Danish does not have, so a translation can never ask the caller for a value it does not pass.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from routing import yaml_parser

TEMPLATES_DIR = Path(__file__).with_name("templates")
DEFAULT_LANGUAGE = "da"

# The day words a time phrase can start with; `sms.timephrase` picks one.
DAY_WORDS = ("today", "this_evening", "tonight", "tomorrow", "tomorrow_morning", "tomorrow_evening")

# Patterns in `time_phrases:`: the placeholders each must use, and those it may use besides.
PATTERN_FIELDS: Mapping[str, tuple[frozenset[str], frozenset[str]]] = {
    "date": (frozenset({"day", "month"}), frozenset()),
    "between": (frozenset({"day", "start", "end"}), frozenset()),
    "at": (frozenset({"day", "time"}), frozenset()),
    "until": (frozenset({"day", "end"}), frozenset()),
    "from_to": (frozenset({"start_day", "start", "end_day", "end"}), frozenset()),
    "time": (frozenset({"hour", "minute"}), frozenset({"hour2"})),
    "time_whole_hour": (frozenset(), frozenset({"hour", "hour2"})),
}


class CatalogueError(Exception):
    """A template file is malformed; the message names the file and key."""


class TemplateError(CatalogueError):
    """A template is unknown or a placeholder has no value; the message names the file, key and placeholder."""


@dataclass(frozen=True)
class TimePhrases:
    """One language's words for times: day words, weekday and month forms, and the patterns joining them.

    `weekdays` are the phrases for "on Monday" ... "on Sunday" (Monday first, with any preposition, since its case
    differs by weekday in some languages); `months` are the month forms used in a date, January first.
    """

    days: Mapping[str, str]
    weekdays: tuple[str, ...]
    months: tuple[str, ...]
    patterns: Mapping[str, str]
    midnight_end: str


@dataclass(frozen=True)
class LanguagePack:
    """One language file, parsed."""

    code: str
    path: Path
    name: str
    texts: Mapping[str, str]
    staff_texts: Mapping[str, str]
    time_phrases: TimePhrases | None

    def template(self, key: str) -> str | None:
        """The text for `key` in this file, relative-facing or staff, or None."""
        return self.texts.get(key, self.staff_texts.get(key))

    def template_keys(self) -> list[str]:
        """Every template key in this file."""
        return [*self.texts, *self.staff_texts]


def placeholders(text: str, where: str) -> set[str]:
    """The `{names}` in `text`; CatalogueError (naming `where`) for braces that are not a plain `{name}`."""
    names: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise CatalogueError(f"{where}: {exc}; write a literal brace as {{{{ or }}}}") from exc
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise CatalogueError(f"{where}: placeholder {{{name}}} must be a plain name like {{when}}")
        names.add(name)
    return names


def _text_section(path: Path, data: Mapping[str, Any], section: str) -> dict[str, str]:
    raw = data.get(section) or {}
    if not isinstance(raw, dict):
        raise CatalogueError(f"{path}: `{section}:` must be a mapping of key: text")
    texts: dict[str, str] = {}
    for key, text in raw.items():
        if not isinstance(text, str) or not text.strip():
            raise CatalogueError(f"{path}: {section}.{key} must be non-empty text")
        placeholders(text, f"{path}: {section}.{key}")
        texts[str(key)] = text.strip()
    return texts


def _word_list(path: Path, raw: Mapping[str, Any], key: str, length: int) -> tuple[str, ...]:
    words = raw.get(key)
    if (
        not isinstance(words, list)
        or len(words) != length
        or not all(isinstance(w, str) and w for w in words)
    ):
        raise CatalogueError(f"{path}: time_phrases.{key} must be a list of {length} words")
    return tuple(words)


def _time_phrases(path: Path, raw: Any) -> TimePhrases | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise CatalogueError(f"{path}: `time_phrases:` must be a mapping")
    for key in (*DAY_WORDS, *PATTERN_FIELDS, "midnight_end"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise CatalogueError(f"{path}: time_phrases.{key} is missing; every language needs all of them")
    for key, (required, optional) in PATTERN_FIELDS.items():
        used = placeholders(raw[key], f"{path}: time_phrases.{key}")
        if not required <= used <= required | optional:
            need = ", ".join(f"{{{n}}}" for n in sorted(required)) or "no placeholder"
            raise CatalogueError(f"{path}: time_phrases.{key} must use {need} (found {sorted(used)})")
    return TimePhrases(
        days={key: raw[key] for key in DAY_WORDS},
        weekdays=_word_list(path, raw, "weekdays", 7),
        months=_word_list(path, raw, "months", 12),
        patterns={key: raw[key] for key in PATTERN_FIELDS},
        midnight_end=raw["midnight_end"],
    )


def load_pack(path: Path) -> LanguagePack:
    """Parse one language file; raise CatalogueError naming the file and key on bad content."""
    try:
        data = yaml_parser.parse(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogueError(f"{path}: expected a mapping with `language:`, `texts:` and `time_phrases:`")
    code = str(data.get("language") or "")
    if code != path.stem:
        raise CatalogueError(f"{path}: `language: {code}` must match the file name ({path.stem})")
    texts = _text_section(path, data, "texts")
    staff_texts = _text_section(path, data, "staff_texts")
    both = set(texts) & set(staff_texts)
    if both:
        raise CatalogueError(f"{path}: {sorted(both)[0]!r} is under both `texts:` and `staff_texts:`")
    return LanguagePack(
        code=code,
        path=path,
        name=str(data.get("name") or code),
        texts=texts,
        staff_texts=staff_texts,
        time_phrases=_time_phrases(path, data.get("time_phrases")),
    )


def normalise_language(code: str | None) -> str:
    """`da-DK`, `DA` and `da_dk` to `da`; an empty code to the default language."""
    if not code:
        return DEFAULT_LANGUAGE
    return code.strip().replace("_", "-").split("-")[0].lower() or DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Catalogue:
    """Language packs by code, Danish being the reference and the fallback."""

    packs: Mapping[str, LanguagePack]
    default_language: str = DEFAULT_LANGUAGE

    @property
    def default(self) -> LanguagePack:
        """The reference language's pack."""
        return self.packs[self.default_language]

    def languages(self) -> list[str]:
        """Codes that have a file."""
        return sorted(self.packs)

    def pack(self, language: str | None) -> LanguagePack:
        """The pack for `language`, or the default one when there is no file for it."""
        return self.packs.get(normalise_language(language), self.default)

    def lookup(self, key: str, language: str | None) -> tuple[str, LanguagePack]:
        """The text for `key` in `language`, falling back to the default; with the pack it came from."""
        for pack in (self.pack(language), self.default):
            text = pack.template(key)
            if text is not None:
                return text, pack
        known = ", ".join(self.default.template_keys())
        raise TemplateError(f"no template {key!r} in {self.default.path} (known keys: {known})")

    def time_phrases(self, language: str | None) -> TimePhrases:
        """The time phrases of `language`, or the default language's when it has none."""
        phrases = self.pack(language).time_phrases or self.default.time_phrases
        if phrases is None:
            raise CatalogueError(f"{self.default.path}: `time_phrases:` is missing")
        return phrases

    @classmethod
    def load(cls, directory: Path = TEMPLATES_DIR, default_language: str = DEFAULT_LANGUAGE) -> Catalogue:
        """Read every `<lang>.yaml` in `directory` and check translations against the default language."""
        packs = {pack.code: pack for pack in map(load_pack, sorted(directory.glob("*.yaml")))}
        reference = packs.get(default_language)
        if reference is None:
            raise CatalogueError(
                f"{directory}: {default_language}.yaml is missing; it is the fallback language"
            )
        if reference.time_phrases is None:
            raise CatalogueError(f"{reference.path}: `time_phrases:` is required in the fallback language")
        for pack in packs.values():
            for key in pack.template_keys():
                original = reference.template(key)
                if original is None:
                    raise CatalogueError(f"{pack.path}: {key!r} is not a key of {reference.path.name}")
                if (key in pack.texts) != (key in reference.texts):
                    section = "texts" if key in reference.texts else "staff_texts"
                    raise CatalogueError(
                        f"{pack.path}: {key!r} belongs under `{section}:` as in {reference.path.name}"
                    )
                text = pack.template(key) or ""
                extra = placeholders(text, str(pack.path)) - placeholders(original, str(reference.path))
                if extra:
                    raise CatalogueError(
                        f"{pack.path}: {key}: placeholder {{{sorted(extra)[0]}}} is not in "
                        f"{reference.path.name}, so no caller passes it"
                    )
        return cls(packs=packs, default_language=default_language)


@functools.cache
def default_catalogue() -> Catalogue:
    """The shipped catalogue, read on first use."""
    return Catalogue.load()

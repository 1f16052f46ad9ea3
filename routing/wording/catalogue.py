"""The staff catalogue: every word staff read, by stable message id, in Danish and in English.

`routing/wording/staff.yaml` maps a message id to its two texts:

    callbacks.none_open:
      da: ingen åbne tilbagekald
      en: no open callbacks

Placeholders are named, in Python's %-format as gettext writes them (`%(name)s`; `%%` is a percent sign), so an
entry moves into a Flask-Babel `.po` file as it is: the id becomes the msgid, each text a msgstr (see
`wording.po`). A text that depends on a number has the forms `one` and `other` in both languages (Danish and
English both have two) and takes the number as `num`, the name Flask-Babel's `ngettext` gives it.

How staff see an entry is up to the adapter: one language (`text`, `da`), or Danish with the English in
parentheses (`both`: "ingen åbne tilbagekald (no open callbacks)"), or a remark set apart in a line
(`aside`: "(lagt på / hung up)"). A value may be another message (`ref`), shown in the same language.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from routing import yaml_parser

__all__ = [
    "CATALOGUE_FILE",
    "LANGUAGES",
    "Catalogue",
    "Entry",
    "Ref",
    "WordingError",
    "aside",
    "both",
    "da",
    "default_catalogue",
    "known",
    "language_name",
    "language_ref",
    "load_catalogue",
    "ref",
    "text",
]

CATALOGUE_FILE = Path(__file__).with_name("staff.yaml")
LANGUAGES = ("da", "en")  # Danish first: staff read Danish, English is the second catalogue
PLURAL_FORMS = ("one", "other")  # Danish and English alike: nplurals=2; plural=(n != 1)
PLURAL_VALUE = "num"

MESSAGE_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
# A `%` starts either a named placeholder or `%%`; anything else (`%s`, `%d`, a lone `%`) is refused.
_PERCENT = re.compile(r"%(?:\((?P<name>[a-z_][a-z0-9_]*)\)s|(?P<literal>%))")


class WordingError(Exception):
    """The catalogue is malformed, or code asked for an id or placeholder it does not have."""


@dataclass(frozen=True)
class Ref:
    """A message used as a value of another: rendered in the language of the text around it."""

    message_id: str
    values: Mapping[str, object] = field(default_factory=dict)


def ref(message_id: str, /, **values: object) -> Ref:
    """A message to pass as a value (`both("chain.why.speaks", language=ref("language.ar"))`)."""
    return Ref(message_id, values)


Text = str | Mapping[str, str]  # a plain text, or the plural forms by name


@dataclass(frozen=True)
class Entry:
    """One message: its id, its text per language and the placeholders both texts use."""

    message_id: str
    texts: Mapping[str, Text]
    placeholders: frozenset[str]
    note: str = ""

    @property
    def plural(self) -> bool:
        return not isinstance(self.texts[LANGUAGES[0]], str)

    def pattern(self, language: str, num: object = None) -> str:
        """The raw text in `language` (the plural form for `num`), placeholders not yet filled."""
        chosen = self.texts[language]
        if isinstance(chosen, str):
            return chosen
        return chosen["one" if _number(self.message_id, num) == 1 else "other"]


def placeholders_of(text: str) -> tuple[set[str], list[str]]:
    """The placeholder names in `text`, and the problems with its `%` signs."""
    names: set[str] = set()
    problems: list[str] = []
    position = 0
    for match in _PERCENT.finditer(text):
        if "%" in text[position : match.start()]:
            problems.append(f"a lone % in {text!r}; write %% for a percent sign, %(name)s for a value")
        if match.group("name"):
            names.add(match.group("name"))
        position = match.end()
    if "%" in text[position:]:
        problems.append(f"a lone % in {text!r}; write %% for a percent sign, %(name)s for a value")
    return names, problems


@dataclass(frozen=True)
class Catalogue:
    """The entries by id, read from one file."""

    path: Path
    entries: Mapping[str, Entry]

    def entry(self, message_id: str) -> Entry:
        try:
            return self.entries[message_id]
        except KeyError:
            raise WordingError(
                f"{self.path.name}: no message {message_id!r}; add it with `da:` and `en:` texts"
            ) from None

    def text(self, message_id: str, language: str, /, **values: object) -> str:
        """The message in `language`, its placeholders filled (a `Ref` value in the same language)."""
        return self.format(message_id, language, values)

    def format(
        self,
        message_id: str,
        language: str,
        values: Mapping[str, object],
        quote: Callable[[object], str] = str,
    ) -> str:
        """`text` with the values as a mapping; `quote` is applied to the text and to every value (a web page
        passes an HTML escape that leaves markup it made itself alone)."""
        if language not in LANGUAGES:
            raise WordingError(f"{self.path.name}: no language {language!r}; staff texts are {LANGUAGES}")
        entry = self.entry(message_id)
        missing = entry.placeholders - set(values)
        if missing:  # values the text does not use are ignored, as gettext does
            raise WordingError(
                f"{self.path.name}: {message_id} needs a value for {', '.join(sorted(missing))}; "
                f"it takes {', '.join(sorted(entry.placeholders))}"
            )
        filled = {
            name: quote(
                self.text(value.message_id, language, **value.values) if isinstance(value, Ref) else value
            )
            for name, value in values.items()
            if name in entry.placeholders
        }
        return quote(entry.pattern(language, values.get(PLURAL_VALUE))) % filled

    def both(self, message_id: str, /, **values: object) -> str:
        """Danish with the English in parentheses: "ingen huller (no gaps)"."""
        return f"{self.text(message_id, 'da', **values)} ({self.text(message_id, 'en', **values)})"

    def aside(self, message_id: str, /, **values: object) -> str:
        """A remark in parentheses, Danish / English: "(lagt på / hung up)"."""
        return f"({self.text(message_id, 'da', **values)} / {self.text(message_id, 'en', **values)})"


def _number(message_id: str, num: object) -> int:
    if isinstance(num, bool) or not isinstance(num, int):
        raise WordingError(
            f"{message_id}: the plural message needs {PLURAL_VALUE}= a whole number, not {num!r}"
        )
    return num


def load_catalogue(path: Path = CATALOGUE_FILE) -> Catalogue:
    """Read and check a catalogue file; WordingError lists every problem as `file: id: what to fix`."""
    try:
        data = yaml_parser.parse(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise WordingError(f"{path}: cannot read the catalogue: {exc}") from exc
    if not isinstance(data, dict):
        raise WordingError(f"{path}: expected a mapping of message id to `da:` and `en:` texts")
    entries: dict[str, Entry] = {}
    problems: list[str] = []
    for message_id, body in data.items():
        entry, found = _entry(str(message_id), body)
        problems += [f"{path.name}: {message_id}: {problem}" for problem in found]
        if entry is not None:
            entries[entry.message_id] = entry
    if problems:
        raise WordingError("\n".join(problems))
    return Catalogue(path, entries)


def _entry(message_id: str, body: Any) -> tuple[Entry | None, list[str]]:
    if not MESSAGE_ID.match(message_id):
        return None, ["an id is lowercase words joined by dots, like `roster.gaps.none`"]
    if not isinstance(body, dict):
        return None, ["expected `da:` and `en:` under the id"]
    unknown = set(body) - {*LANGUAGES, "note"}
    problems = [f"unknown key {key!r}; an entry has `da:`, `en:` and an optional `note:`" for key in unknown]
    texts: dict[str, Text] = {}
    names: dict[str, set[str]] = {}
    for language in LANGUAGES:
        raw = body.get(language)
        if raw is None or raw == "":
            problems.append(f"no `{language}:` text; every message needs Danish and English")
            continue
        text, used, found = _text(raw)
        problems += [f"{language}: {problem}" for problem in found]
        if text is not None:
            texts[language], names[language] = text, used
    if len(texts) == len(LANGUAGES):
        kinds = {isinstance(t, str) for t in texts.values()}
        if len(kinds) > 1:
            problems.append("plural in one language only; give both `one:` and `other:` in both")
        da_names, en_names = (names[language] for language in LANGUAGES)
        if da_names != en_names:
            problems.append(f"the placeholders differ: da {sorted(da_names)}, en {sorted(en_names)}")
        if False in kinds and PLURAL_VALUE not in da_names:
            problems.append(f"a plural text must show the number as %({PLURAL_VALUE})s in its `other:` form")
    if problems:
        return None, problems
    return Entry(message_id, texts, frozenset(names[LANGUAGES[0]]), str(body.get("note") or "")), []


def _text(raw: Any) -> tuple[Text | None, set[str], list[str]]:
    names: set[str] = set()
    problems: list[str] = []
    if isinstance(raw, str):
        names, problems = placeholders_of(raw)
        return raw, names, problems
    if (
        isinstance(raw, dict)
        and set(raw) == set(PLURAL_FORMS)
        and all(isinstance(v, str) for v in raw.values())
    ):
        for form in PLURAL_FORMS:
            used, found = placeholders_of(raw[form])
            names |= used
            problems += [f"{form}: {problem}" for problem in found]
        if PLURAL_VALUE not in placeholders_of(raw["other"])[0]:
            problems.append(f"other: the text must show the number as %({PLURAL_VALUE})s")
        return dict(raw), names, problems
    return None, set(), ["expected a text, or `one:` and `other:` texts for a number"]


@functools.cache
def default_catalogue() -> Catalogue:
    """The shipped catalogue, read once."""
    return load_catalogue()


def known(message_id: str) -> bool:
    """True when the shipped catalogue has `message_id` (for ids built from data, like `language.<code>`)."""
    return message_id in default_catalogue().entries


def language_ref(code: str | None) -> Ref | str:
    """A language as a value: its name (`language.<code>`) in the text's language, or the code when the
    catalogue does not name it. `da-DK` and `DA` are read as `da`."""
    short = (code or "").strip().replace("_", "-").split("-")[0].lower()
    return ref(f"language.{short}") if known(f"language.{short}") else (code or "?")


def language_name(code: str | None, in_language: str = "da") -> str:
    """The name of the language `code` in `in_language` ("arabisk"), or the code when it has no entry."""
    value = language_ref(code)
    return text(value.message_id, in_language) if isinstance(value, Ref) else value


def text(message_id: str, language: str, /, **values: object) -> str:
    """The message in one language (`da` or `en`) from the shipped catalogue."""
    return default_catalogue().text(message_id, language, **values)


def da(message_id: str, /, **values: object) -> str:
    """The message in Danish, for places that show staff Danish alone (calendars, the Danish parts of a line)."""
    return default_catalogue().text(message_id, "da", **values)


def both(message_id: str, /, **values: object) -> str:
    """Danish with the English in parentheses, the staff-facing default: "ingen huller (no gaps)"."""
    return default_catalogue().both(message_id, **values)


def aside(message_id: str, /, **values: object) -> str:
    """A remark set apart: "(lagt på / hung up)"."""
    return default_catalogue().aside(message_id, **values)

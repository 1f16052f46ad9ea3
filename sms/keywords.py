"""Keywords in incoming texts: STOP, START, HJÆLP, STATUS, RING and the information topics.

The table lives in `sms/keywords.yaml`. A text is a keyword only when it is a single word: surrounding
whitespace, punctuation, symbols and emoji are ignored, and so are invisible formatting characters (zero-width
spaces, direction marks) anywhere in it. Anything more ("stop please call me", "STOP STOP", "Stop1") is a question
for the advisors, because a relative who writes a sentence wants an answer from a person, and an opt-out must
never be triggered by a word inside one.

Matching ignores case and accents: the text is NFKC-normalised (full-width and styled letters become plain ones),
case-folded, stripped of combining accents, and letters without a decomposition (æ, ø, ...) are folded with the
file's `letter_folds`.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from routing import yaml_parser

KEYWORDS_FILE = Path(__file__).with_name("keywords.yaml")


class KeywordError(Exception):
    """The keyword file is malformed; the message names the file and the entry."""


class KeywordAction(StrEnum):
    """What a keyword asks for."""

    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    STATUS = "status"
    CALLBACK = "callback"
    INFO = "info"


@dataclass(frozen=True)
class Keyword:
    """A recognised keyword.

    `word` is the canonical spelling (the entry's first), `topic` the information topic of an `info` keyword,
    `reply` the template that always answers it (None when the answer depends on the relative's callbacks), and
    `language` the language the matched spelling belongs to (None for a spelling shared by languages, like STOP):
    a hint for answering a number whose language is not yet known.
    """

    action: KeywordAction
    word: str
    topic: str | None = None
    reply: str | None = None
    language: str | None = None


def _is_word_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LMN"


def _is_invisible(ch: str) -> bool:
    # Cf: zero-width space/joiner, direction marks and isolates, BOM, soft hyphen. They can sit inside a word
    # (pasted text, RTL keyboards) without the sender seeing them.
    return unicodedata.category(ch) == "Cf"


def single_word(body: str) -> str | None:
    """The one word `body` consists of, NFKC-normalised and without invisible characters; else None."""
    text = "".join(ch for ch in unicodedata.normalize("NFKC", body) if not _is_invisible(ch))
    start, end = 0, len(text)
    while start < end and not _is_word_char(text[start]):
        start += 1
    while end > start and not _is_word_char(text[end - 1]):
        end -= 1
    word = text[start:end]
    if not word or not all(_is_word_char(ch) for ch in word):
        return None
    return word


@dataclass(frozen=True)
class KeywordTable:
    """Keywords by their folded spelling."""

    by_folded: Mapping[str, Keyword]
    letter_folds: Mapping[str, str] = field(default_factory=dict)
    spellings: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def fold(self, word: str) -> str:
        """`word` without case or accents, as the table stores it."""
        decomposed = unicodedata.normalize("NFKD", word.casefold())
        bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        return "".join(self.letter_folds.get(ch, ch) for ch in bare)

    def lookup(self, word: str) -> Keyword | None:
        """The keyword spelt `word`, or None."""
        return self.by_folded.get(self.fold(word))

    def keywords(self) -> list[Keyword]:
        """Each keyword once (its first spelling's variant), in file order."""
        first: dict[tuple[KeywordAction, str | None], Keyword] = {}
        for keyword in self.by_folded.values():
            first.setdefault((keyword.action, keyword.topic), keyword)
        return list(first.values())

    @classmethod
    def load(cls, path: Path = KEYWORDS_FILE) -> KeywordTable:
        """Read and check a keyword file; raise KeywordError naming the file and entry on bad content."""
        try:
            data = yaml_parser.parse(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise KeywordError(f"{path}: not valid YAML: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("keywords"), list):
            raise KeywordError(f"{path}: expected a `keywords:` list of entries with `action` and `words`")
        folds = data.get("letter_folds") or {}
        if not isinstance(folds, dict) or not all(
            isinstance(k, str) and len(k) == 1 and isinstance(v, str) for k, v in folds.items()
        ):
            raise KeywordError(f"{path}: `letter_folds` must map single letters to text, like `æ: ae`")
        table = cls(by_folded={}, letter_folds={k.casefold(): v.casefold() for k, v in folds.items()})
        by_folded: dict[str, Keyword] = {}
        spellings: dict[str, tuple[str, ...]] = {}
        for number, entry in enumerate(data["keywords"], start=1):
            variants = _parse_entry(path, number, entry)
            spellings[variants[0][0].word] = tuple(word for _keyword, words in variants for word in words)
            for keyword, words in variants:
                for word in words:
                    folded = table.fold(word)
                    other = by_folded.get(folded)
                    if other is not None and (other.action, other.topic) != (keyword.action, keyword.topic):
                        raise KeywordError(
                            f"{path}: keyword entry {number}: {word!r} is already a spelling of {other.word!r}"
                        )
                    by_folded[folded] = keyword
        return cls(by_folded=by_folded, letter_folds=table.letter_folds, spellings=spellings)


def _word_groups(where: str, raw: Any) -> list[tuple[str | None, list[str]]]:
    # `words:` is a list (language-neutral) or a mapping of language code (or `any`) to a list.
    groups = raw if isinstance(raw, dict) else {"any": raw}
    result: list[tuple[str | None, list[str]]] = []
    for language, words in groups.items():
        if not isinstance(words, list) or not words or not all(isinstance(w, str) for w in words):
            raise KeywordError(
                f"{where}: `words` must be a list of words, or map languages to lists of words"
            )
        for word in words:
            if single_word(word) != unicodedata.normalize("NFKC", word):
                raise KeywordError(
                    f"{where}: {word!r} is not a single word; only one-word keywords are matched"
                )
        result.append((None if language == "any" else str(language), words))
    if not result:
        raise KeywordError(f"{where}: `words` is empty")
    return result


def _parse_entry(path: Path, number: int, entry: Any) -> list[tuple[Keyword, list[str]]]:
    where = f"{path}: keyword entry {number}"
    if not isinstance(entry, dict):
        raise KeywordError(f"{where}: expected a mapping with `action` and `words`")
    try:
        action = KeywordAction(str(entry.get("action")))
    except ValueError:
        choices = ", ".join(a.value for a in KeywordAction)
        raise KeywordError(
            f"{where}: `action` must be one of {choices}, not {entry.get('action')!r}"
        ) from None
    groups = _word_groups(where, entry.get("words"))
    topic = entry.get("topic")
    if (action is KeywordAction.INFO) != isinstance(topic, str):
        raise KeywordError(f"{where}: `topic` is required for action info and allowed only there")
    reply = entry.get("reply")
    if reply is not None and not isinstance(reply, str):
        raise KeywordError(f"{where}: `reply` must be a template key")
    canonical = groups[0][1][0]
    return [
        (Keyword(action=action, word=canonical, topic=topic, reply=reply, language=language), words)
        for language, words in groups
    ]


@functools.cache
def default_table() -> KeywordTable:
    """The shipped keyword table, read on first use."""
    return KeywordTable.load()


def classify(body: str, table: KeywordTable | None = None) -> Keyword | None:
    """The keyword `body` is, or None when it is a question for the advisors."""
    word = single_word(body)
    if word is None:
        return None
    return (table or default_table()).lookup(word)

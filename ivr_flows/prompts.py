"""The prompt catalogue: what callers hear, per language, loaded from `ivr_flows/prompts/<lang>.yaml`.

Each file holds `language: <code>` and a flat `prompts:` mapping of dotted keys to text. Several files may
serve one language (`da.yaml` for the call flow, `routing.da.yaml` for putting calls through); a key defined
twice for one language is an error. Text may name placeholders such as `{service_name}`;
`PromptCatalogue.text` fills them in.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from routing import yaml_parser

PROMPTS_DIR = Path(__file__).with_name("prompts")


class PromptError(Exception):
    """A prompt file is malformed or a prompt is missing; the message names the file and key."""


def _key_lines(text: str, section: str) -> dict[str, int]:
    """The 1-based line of each key of the top-level mapping `section` in YAML `text`."""
    root = yaml_parser.compose(text)
    if not isinstance(root, yaml.MappingNode):
        return {}
    for key_node, value_node in root.value:
        if key_node.value == section and isinstance(value_node, yaml.MappingNode):
            return {str(k.value): k.start_mark.line + 1 for k, _ in value_node.value}
    return {}


class _Defaulting(dict[str, str]):
    def __missing__(self, key: str) -> str:
        raise PromptError(f"prompt placeholder {{{key}}} has no value")


@dataclass(frozen=True)
class PromptCatalogue:
    """Prompts by language, then by key."""

    texts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    default_language: str = "da"
    # Where each prompt is written, by language and key: ("prompts/da.yaml", line), for messages.
    places: Mapping[str, Mapping[str, tuple[str, int]]] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path = PROMPTS_DIR, default_language: str = "da") -> PromptCatalogue:
        """Read every `*.yaml` in `directory`; raise PromptError naming the file on malformed content.

        Files with the same names and content as before are not parsed again: the catalogue read from them then
        is returned (it is immutable, so every app in the process shares it).
        """
        files = tuple((path, path.read_text(encoding="utf-8")) for path in sorted(directory.glob("*.yaml")))
        return _parse_catalogue(files, default_language)

    def place(self, language: str, key: str) -> str:
        """Where the prompt `key` of `language` is written, `prompts/da.yaml:38` (or its file, or '')."""
        name, line = self.places.get(language, {}).get(key, ("", 0))
        return f"{name}:{line}" if name and line else name

    def languages(self) -> list[str]:
        """Languages that have a prompt file."""
        return sorted(self.texts)

    def has(self, language: str, key: str) -> bool:
        """True when `language` has its own text for `key` (no fallback)."""
        return key in self.texts.get(language, {})

    def placeholders(self, language: str, key: str) -> frozenset[str]:
        """The placeholder names the text of `key` in `language` (or the default language) has."""
        for lang in (language, self.default_language):
            template = self.texts.get(lang, {}).get(key)
            if template is not None:
                return _placeholder_names(template)
        return frozenset()

    def text(self, language: str, key: str, /, **values: object) -> str:
        """The text of `key` in `language`, falling back to the default language; placeholders filled in."""
        for lang in (language, self.default_language):
            template = self.texts.get(lang, {}).get(key)
            if template is not None:
                return template.format_map(_Defaulting({k: str(v) for k, v in values.items()}))
        raise PromptError(
            f"prompt {key!r} is missing for language {language!r} and {self.default_language!r}"
        )


@functools.lru_cache(maxsize=4096)
def _placeholder_names(template: str) -> frozenset[str]:
    """`{name}` fields of a prompt's text, by name (`{name.attr}` and `{name[0]}` name `name`)."""
    fields = (field for _, field, _, _ in string.Formatter().parse(template) if field)
    return frozenset(re.split(r"[.\[]", field, maxsplit=1)[0] for field in fields)


@functools.lru_cache(maxsize=16)
def _parse_catalogue(files: tuple[tuple[Path, str], ...], default_language: str) -> PromptCatalogue:
    texts: dict[str, dict[str, str]] = {}
    places: dict[str, dict[str, tuple[str, int]]] = {}
    for path, text in files:
        try:
            data = yaml_parser.parse(text) or {}
        except yaml.YAMLError as exc:
            raise PromptError(f"{path}: not valid YAML: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("prompts"), dict):
            raise PromptError(f"{path}: expected `language:` and a `prompts:` mapping of key: text")
        language = str(data.get("language") or path.stem.rsplit(".", 1)[-1])
        prompts = data["prompts"]
        bad = [k for k, v in prompts.items() if not isinstance(v, str) or not v.strip()]
        if bad:
            raise PromptError(f"{path}: prompt {bad[0]!r} must be non-empty text")
        merged = texts.setdefault(language, {})
        twice = sorted(set(map(str, prompts)) & set(merged))
        if twice:
            raise PromptError(
                f"{path}: prompt {twice[0]!r} for {language!r} is already defined in another file"
            )
        merged.update({str(k): v for k, v in prompts.items()})
        lines = _key_lines(text, "prompts")
        name = f"{path.parent.name}/{path.name}"
        places.setdefault(language, {}).update({str(k): (name, lines.get(str(k), 0)) for k in prompts})
    return PromptCatalogue(texts=texts, default_language=default_language, places=places)

"""Reading a flow file: YAML into a `Flow`, keeping the file and line of every node, key and prompt.

Malformed content (a typo in a field name, a value of the wrong type, an unknown action) raises FlowFileError
naming file:line and node. Graph mistakes (a key leading nowhere, a missing exit, a duplicate key) are kept as
written, so that `ivr_flows.check` can report all of them at once.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from ivr_flows.flow import (
    ACTION_KINDS,
    CONDITIONS,
    KIND_EXITS,
    KIND_PARAMS,
    MENU_KEYS,
    OPTIONAL_PARAMS,
    Exit,
    Flow,
    Node,
    NumberEntry,
    PromptRef,
)
from ivr_flows.languages import Language, Languages
from routing import yaml_parser

FLOWS_DIR = Path(__file__).with_name("flows")
MAIN_FLOW = FLOWS_DIR / "main.yaml"

_NODE_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_TOP_FIELDS = frozenset(
    {
        "flow",
        "start",
        "overflow",
        "max_gathers",
        "placeholders",
        "fallback_prompts",
        "menu_defaults",
        "number_entry",
        "nodes",
    }
)
_MENU_DEFAULTS = {"timeout_s": 7, "retries": 2, "on_silence": "menu.no_input", "on_invalid": "menu.invalid"}


class FlowFileError(Exception):
    """A flow file is malformed. `str()` reads `file:line: node 'id': what is wrong and how to fix it`."""

    def __init__(self, file: str, line: int, node: str, message: str) -> None:
        self.file, self.line, self.node, self.message = file, line, node, message
        where = f"{file}:{line}: node {node!r}" if node else f"{file}:{line}"
        super().__init__(f"{where}: {message}")


class _Marked(dict[str, Any]):
    """A YAML mapping that remembers its line and every key's line, duplicates included."""

    line: int = 0
    entries: list[tuple[str, Any, int]]

    def line_of(self, key: str) -> int:
        return next((line for k, _, line in self.entries if k == key), self.line)


class _MarkedList(list[Any]):
    """A YAML sequence that remembers the line of each item."""

    lines: list[int]


class _MarkingLoader(yaml_parser.FastLoader):
    """The C SafeLoader, its mappings and sequences carrying their lines (from the nodes' marks)."""


class _PureMarkingLoader(yaml.SafeLoader):
    """The same in pure Python, whose errors are worded as the flow file's messages always were."""


def _construct_mapping(loader: _MarkingLoader | _PureMarkingLoader, node: yaml.MappingNode) -> _Marked:
    loader.flatten_mapping(node)
    result = _Marked()
    result.line = node.start_mark.line + 1
    result.entries = []
    for key_node, value_node in node.value:
        key = str(loader.construct_object(key_node, deep=True))
        value = loader.construct_object(value_node, deep=True)
        result.entries.append((key, value, key_node.start_mark.line + 1))
        result[key] = value
    return result


def _construct_sequence(loader: _MarkingLoader | _PureMarkingLoader, node: yaml.SequenceNode) -> _MarkedList:
    result = _MarkedList(loader.construct_object(child, deep=True) for child in node.value)
    result.lines = [child.start_mark.line + 1 for child in node.value]
    return result


for _loader in (_MarkingLoader, _PureMarkingLoader):
    _loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
    _loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def load_flow(path: Path, languages: Languages) -> Flow:
    """Read the flow at `path` for `languages` (the languages a node may name); raise FlowFileError
    (file:line: node: message) when it is malformed.

    A flow read before from the same file, content and languages is not parsed again: the Flow read then is
    returned (it is immutable, so every app in the process shares it).
    """
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FlowFileError(file, 0, "", f"cannot read the flow file ({exc.strerror})") from exc
    return _parse_flow(file, text, languages.default, tuple(languages.by_code.items()), languages.source)


@functools.lru_cache(maxsize=32)
def _parse_flow(
    file: str, text: str, default: str, languages: tuple[tuple[str, Language], ...], source: str
) -> Flow:
    try:
        data = yaml_parser.parse(text, _MarkingLoader, _PureMarkingLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise FlowFileError(file, line, "", f"not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    return _FlowReader(file, Languages(default=default, by_code=dict(languages), source=source)).flow(data)


class _FlowReader:
    def __init__(self, file: str, languages: Languages) -> None:
        self.file = file
        self.languages = languages
        self.node = ""

    def error(self, line: int, message: str) -> FlowFileError:
        return FlowFileError(self.file, line, self.node, message)

    def flow(self, data: object) -> Flow:
        if not isinstance(data, _Marked):
            raise self.error(1, "expected a mapping with `start:`, `overflow:` and `nodes:`")
        self.unknown_fields(data, _TOP_FIELDS, "flow file")
        for required in ("start", "overflow", "nodes"):
            if required not in data:
                raise self.error(
                    1, f"`{required}:` is missing; see docs/flows.md for the fields of a flow file"
                )
        nodes_raw = self.mapping(data, "nodes")
        menu_defaults = self.mapping(data, "menu_defaults", required=False)
        self.unknown_fields(menu_defaults, frozenset(_MENU_DEFAULTS), "menu_defaults")
        defaults = {**_MENU_DEFAULTS, **menu_defaults}
        nodes: dict[str, Node] = {}
        for node_id, raw, line in nodes_raw.entries:
            self.node = node_id
            if not _NODE_ID.match(node_id):
                raise self.error(
                    line, "a node id is lower-case letters, digits and _, starting with a letter"
                )
            if node_id in nodes:
                raise self.error(
                    line, f"defined twice (first at line {nodes[node_id].line}); rename one of them"
                )
            if not isinstance(raw, _Marked):
                raise self.error(line, "a node is a mapping with `say:` and one of next/menu/branch/action")
            nodes[node_id] = self.read_node(node_id, raw, line, defaults, menu_defaults)
        self.node = ""
        placeholders = self.mapping(data, "placeholders", required=False)
        return Flow(
            name=self.text(data.get("flow", Path(self.file).stem), data.line_of("flow"), "flow"),
            file=self.file,
            start=self.text(data["start"], data.line_of("start"), "start"),
            overflow=self.text(data["overflow"], data.line_of("overflow"), "overflow"),
            max_gathers=self.number(
                data.get("max_gathers", 30), data.line_of("max_gathers"), "max_gathers", 1
            ),
            nodes=nodes,
            languages=self.languages,
            number_entry=self.number_entry(data),
            placeholders={str(k): str(v) for k, v in placeholders.items()},
            placeholder_lines={str(k): line for k, _, line in placeholders.entries},
            fallback_prompts=self.prompts(data.get("fallback_prompts"), data.line_of("fallback_prompts")),
            lines={key: line for key, _, line in data.entries},
        )

    def read_node(
        self, node_id: str, raw: _Marked, line: int, defaults: Mapping[str, Any], defaults_at: _Marked
    ) -> Node:
        if "action" in raw:
            kind = self.text(raw["action"], raw.line_of("action"), "action")
            if kind not in ACTION_KINDS:
                raise self.error(
                    raw.line_of("action"), f"unknown action {kind!r}; use one of {_listed(ACTION_KINDS)}"
                )
        else:
            kind = next((k for k in ("menu", "branch") if k in raw), "say")
        exit_field = "next" if KIND_EXITS[kind] == ("next",) else "results"
        allowed = {
            "say": {"say", "next"},
            "menu": {"say", "menu", "give_up", "timeout_s", "retries", "on_silence", "on_invalid"},
            "branch": {"say", "branch", "then", "else"},
        }.get(kind, {"say", "action", "with", exit_field} - ({"results"} if kind == "goodbye" else set()))
        self.unknown_fields(raw, frozenset(allowed), f"{kind} node")
        node = Node(
            id=node_id,
            kind=kind,
            file=self.file,
            line=line,
            say=self.prompts(raw.get("say"), raw.line_of("say")),
            params=self.params(kind, raw),
            param_lines=self.param_lines(kind, raw),
            exits=self.exits(kind, raw),
        )
        if kind != "menu":
            return node
        settings = {**defaults, **{k: raw[k] for k in _MENU_DEFAULTS if k in raw}}
        at = {k: raw.line_of(k) if k in raw else defaults_at.line_of(k) for k in _MENU_DEFAULTS}
        silence, invalid = (
            PromptRef(self.text(settings[k], at[k], k), at[k]) for k in ("on_silence", "on_invalid")
        )
        return replace(
            node,
            timeout_s=self.number(settings["timeout_s"], at["timeout_s"], "timeout_s", 1),
            retries=self.number(settings["retries"], at["retries"], "retries", 0),
            on_silence=silence,
            on_invalid=invalid,
        )

    def exits(self, kind: str, raw: _Marked) -> tuple[Exit, ...]:
        exits: list[Exit] = []
        if kind == "menu":
            for key, target, line in self.mapping(raw, "menu").entries:
                if key not in MENU_KEYS:
                    raise self.error(
                        line, f"menu key {key!r} is not a phone key; use 0-9, or '*' or '#' in quotes"
                    )
                exits.append(Exit(key, self.text(target, line, f"key {key}"), line, is_key=True))
        names = KIND_EXITS[kind]
        if kind in ("say", "menu", "branch") or names == ("next",):
            for name in names:
                if name in raw:
                    exits.append(Exit(name, self.text(raw[name], raw.line_of(name), name), raw.line_of(name)))
            return tuple(exits)
        for name, target, line in self.mapping(raw, "results", required=False).entries:
            if name not in names:
                raise self.error(line, f"{kind} has no result {name!r}; its results are {_listed(names)}")
            exits.append(Exit(name, self.text(target, line, name), line))
        return tuple(exits)

    def params(self, kind: str, raw: _Marked) -> dict[str, str]:
        if kind == "branch":
            condition = self.text(raw["branch"], raw.line_of("branch"), "branch")
            if condition not in CONDITIONS:
                raise self.error(
                    raw.line_of("branch"), f"unknown condition {condition!r}; use {_listed(CONDITIONS)}"
                )
            return {"condition": condition}
        given = self.mapping(raw, "with", required=False)
        spec = KIND_PARAMS.get(kind, {})
        self.unknown_fields(given, frozenset(spec), f"`with:` of {kind}")
        params: dict[str, str] = {}
        for name, allowed in spec.items():
            if name not in given:
                if name in OPTIONAL_PARAMS:
                    continue
                raise self.error(raw.line_of("with"), f"{kind} needs `with: {{{name}: ...}}`")
            value = self.text(given[name], given.line_of(name), name)
            if allowed is not None and value not in allowed:
                raise self.error(
                    given.line_of(name), f"{name} {value!r} is not known; use {_listed(allowed)}"
                )
            if name == "language" and self.languages.get(value) is None:
                raise self.error(given.line_of(name), self.unknown_language(value))
            if name == "max_length_s" and not value.isdigit():
                raise self.error(given.line_of(name), "max_length_s is a whole number of seconds")
            params[name] = value
        return params

    def param_lines(self, kind: str, raw: _Marked) -> dict[str, int]:
        if kind == "branch":
            return {"condition": raw.line_of("branch")}
        given = self.mapping(raw, "with", required=False)
        return {name: given.line_of(name) for name in given}

    def prompts(self, value: object, line: int) -> tuple[PromptRef, ...]:
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        lines = getattr(items, "lines", [line] * len(items))
        refs = []
        for item, item_line in zip(items, lines, strict=True):
            if isinstance(item, _Marked):
                self.unknown_fields(item, frozenset({"prompt", "language"}), "prompt")
                key = self.text(item.get("prompt"), item_line, "prompt")
                language = self.text(item.get("language"), item_line, "language")
                if self.languages.get(language) is None:
                    raise self.error(item_line, self.unknown_language(language))
                refs.append(PromptRef(key, item_line, language))
            else:
                refs.append(PromptRef(self.text(item, item_line, "prompt"), item_line))
        return tuple(refs)

    def unknown_language(self, code: str) -> str:
        known = _listed(self.languages.by_code)
        return f"language {code!r} is not one of the languages ({known}); add it to {self.languages.source}"

    def number_entry(self, data: _Marked) -> NumberEntry:
        raw = self.mapping(data, "number_entry", required=False)
        base = NumberEntry(line=data.line_of("number_entry"))
        self.unknown_fields(raw, frozenset(base.__dict__) - {"line"}, "number_entry")
        values: dict[str, Any] = {}
        for name, value, line in raw.entries:
            if isinstance(getattr(base, name), int):
                values[name] = self.number(value, line, name, 1 if name != "refusals" else 0)
            else:
                values[name] = self.text(value, line, name)
        entry = NumberEntry(**{**base.__dict__, **values})
        if entry.confirm_key not in MENU_KEYS:
            raise self.error(raw.line_of("confirm_key"), "confirm_key must be one phone key: 0-9, '*' or '#'")
        if not entry.country_code.isdigit():
            raise self.error(raw.line_of("country_code"), 'country_code is digits only, such as "45"')
        return entry

    def mapping(self, data: _Marked, key: str, required: bool = True) -> _Marked:
        value = data.get(key)
        if value is None and not required:
            empty = _Marked()
            empty.line, empty.entries = data.line_of(key), []
            return empty
        if not isinstance(value, _Marked):
            raise self.error(data.line_of(key), f"`{key}:` must be a mapping of name: value")
        return value

    def unknown_fields(self, data: Mapping[str, Any], allowed: frozenset[str], what: str) -> None:
        for key in data:
            if key not in allowed:
                line = data.line_of(key) if isinstance(data, _Marked) else 0
                raise self.error(line, f"unknown field {key!r} in a {what}; expected {_listed(allowed)}")

    def text(self, value: object, line: int, what: str) -> str:
        if isinstance(value, bool):
            raise self.error(
                line, f"{what} is {value!r}: YAML reads yes/no/on/off as true/false, so quote it"
            )
        if not isinstance(value, str | int) or value == "":
            raise self.error(line, f"{what} must be text, not {value!r}")
        return str(value)

    def number(self, value: object, line: int, what: str, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(line, f"{what} must be a whole number of at least {minimum}, not {value!r}")
        return value


def _listed(names: Iterable[str]) -> str:
    return ", ".join(sorted(names))

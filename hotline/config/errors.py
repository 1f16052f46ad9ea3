"""Turning validation failures into one line per problem: where (file:line), which key, what value, and the fix."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError

from routing import yaml_parser


class ConfigError(Exception):
    """Configuration or environment is unusable; `problems` holds one printable line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def yaml_line_of(text: str, path: Sequence[str | int]) -> int | None:
    """1-based line of the node at `path` in YAML `text` (the deepest part that exists), or None."""
    if not text:
        return None
    try:
        node: Any = yaml_parser.compose(text)
    except yaml.YAMLError:
        return None
    line: int | None = None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == part:
                    line = key_node.start_mark.line + 1
                    node = value_node
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _dotted(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _value_at(data: Any, loc: Sequence[str | int]) -> tuple[bool, Any]:
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:  # noqa: SIM114 - mypy needs the two index types apart
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return False, None
    return True, node


def _known_fields(loc: Sequence[str | int]) -> list[str]:
    from hotline.config.sections import FileSettings

    model: Any = FileSettings
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        annotation = field.annotation
        inner = getattr(annotation, "__args__", None)
        candidate = annotation if hasattr(annotation, "model_fields") else None
        if candidate is None and inner:
            candidate = next((a for a in inner if hasattr(a, "model_fields")), None)
        if candidate is None:
            return []
        model = candidate
    return list(getattr(model, "model_fields", {}))


# Settings that were removed, and why: a file that still sets one is told so instead of "did you mean".
RETIRED: dict[tuple[str | int, ...], str] = {
    ("service", "timezone"): (
        "is no longer a setting: the hotline always plans in Europe/Copenhagen (Danish municipalities, Danish "
        "public holidays in the roster); remove the line"
    ),
}


def _fix_for(error: Any, loc: Sequence[str | int]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden" and tuple(loc) in RETIRED:
        return RETIRED[tuple(loc)]
    if kind == "extra_forbidden":
        known = _known_fields(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known keys here: {', '.join(known) or 'none'}"
        return f"is not a known setting; {hint} Remove or rename it"
    if kind in ("greater_than_equal", "greater_than"):
        return f"must be at least {ctx.get('ge', ctx.get('gt'))}; set a larger number"
    if kind in ("less_than_equal", "less_than"):
        return f"must be at most {ctx.get('le', ctx.get('lt'))}; set a smaller number"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "must be a whole number, e.g. 20"
    if kind in ("float_parsing", "float_type"):
        return "must be a number, e.g. 5"
    if kind in ("bool_parsing", "bool_type"):
        return "must be true or false"
    if kind in ("time_parsing", "time_type"):
        return "must be a time of day written HH:MM in quotes, e.g. '17:00'"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}"
    if kind in ("string_type",):
        return "must be text; put it in quotes"
    if kind in ("list_type",):
        return "must be a list (lines starting with '- ')"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "must be a mapping of keys (indented 'key: value' lines)"
    if kind == "missing":
        return "is required; add it (every setting and its default: hotline/config/defaults.yaml)"
    if kind == "value_error":
        message = str(error["msg"])
        return message.removeprefix("Value error, ")
    return f"{error['msg']}; see the comments in hotline/config/defaults.yaml"


@dataclass(frozen=True)
class ConfigSource:
    """One file the settings were read from: its name, its text (for line numbers) and what it holds."""

    filename: str
    text: str
    data: Any


def _depth(data: Any, loc: Sequence[str | int]) -> int:
    """How many leading parts of `loc` `data` holds."""
    for depth in range(len(loc), 0, -1):
        if _value_at(data, loc[:depth])[0]:
            return depth
    return 0


def where_written(sources: Sequence[ConfigSource], loc: Sequence[str | int]) -> str:
    """`file:line` of the setting at `loc`: in the first file that writes it (the deployment's before the
    defaults), else where its nearest enclosing key is written."""
    if not sources:
        return "config"
    source = max(sources, key=lambda s: _depth(s.data, loc))  # the first of equals: the deployment's file
    line = yaml_line_of(source.text, loc)
    return f"{source.filename}:{line}" if line else source.filename


def describe_validation_error(exc: ValidationError, data: Any, sources: Sequence[ConfigSource]) -> list[str]:
    """One line per pydantic error: `file:line: key = value: what is wrong; how to fix it`. `data` is what was
    validated; `sources` the files it came from, the one that wins first."""
    lines: list[str] = []
    for error in exc.errors():
        loc = [p for p in error["loc"] if isinstance(p, str | int)]
        key = _dotted(loc) or "(top level)"
        found, value = _value_at(data, loc)
        shown = f" = {value!r}" if found and not isinstance(value, dict | list) else ""
        lines.append(f"{where_written(sources, loc)}: {key}{shown}: {_fix_for(error, loc)}")
    return lines

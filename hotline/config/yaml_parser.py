"""Parsing config.yaml with libyaml's C parser, about ten times faster than PyYAML's pure-Python one.

The two parsers read valid YAML alike and report an error at the same line, but word some errors differently;
a document the C parser refuses is parsed again by the pure-Python one, so the error raised is worded as before.
PyYAML built without libyaml uses the pure-Python parser throughout.
"""

from __future__ import annotations

from typing import Any

import yaml

try:
    from yaml import CSafeLoader as FastLoader
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeLoader as FastLoader  # type: ignore[assignment]


def parse(text: str) -> Any:
    """The document in `text`; raises yaml.YAMLError, worded by the pure-Python parser, when it is not valid."""
    try:
        return yaml.load(text, Loader=FastLoader)  # SafeLoader's constructors with the C parser: safe
    except yaml.YAMLError:
        return yaml.safe_load(text)


def compose(text: str) -> yaml.Node | None:
    """The node tree of `text`, each node marked with its line; raises yaml.YAMLError when it is not valid."""
    return yaml.compose(text, Loader=FastLoader)

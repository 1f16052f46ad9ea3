"""Parsing the project's YAML (config, flows, prompts, SMS templates, keywords, rosters, the staff catalogue) with
libyaml's C parser, about ten times faster than PyYAML's pure-Python one. One module for every package: the core
reads it, and `hotline` may read the core.

The two parsers read valid YAML alike and report an error at the same line, but word some errors differently;
a document the C parser refuses is parsed again by the pure-Python one, so the error raised is worded as before.
PyYAML built without libyaml uses the pure-Python parser throughout.
"""

from __future__ import annotations

from typing import Any

import yaml

try:
    from yaml import CSafeDumper as FastDumper
    from yaml import CSafeLoader as FastLoader
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeDumper as FastDumper  # type: ignore[assignment]
    from yaml import SafeLoader as FastLoader  # type: ignore[assignment]

__all__ = ["FastDumper", "FastLoader", "compose", "parse"]


def parse(
    text: str,
    fast: type[FastLoader] = FastLoader,
    pure: type[yaml.SafeLoader] = yaml.SafeLoader,
) -> Any:
    """The document in `text`, read with `fast` (a FastLoader subclass); raises yaml.YAMLError as `pure` (the
    matching SafeLoader subclass) words it when `text` is not valid YAML."""
    try:
        return yaml.load(text, Loader=fast)  # SafeLoader's constructors, C or pure-Python parser: safe
    except yaml.YAMLError:
        return yaml.load(text, Loader=pure)


def compose(text: str) -> yaml.Node | None:
    """The node tree of `text`, each node marked with its line; raises yaml.YAMLError when it is not valid."""
    return yaml.compose(text, Loader=FastLoader)

"""Parsing the call flow's YAML files (flows and prompts) with libyaml's C parser, about ten times faster than
PyYAML's pure-Python one (which was most of the time `create_app` took).

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

__all__ = ["FastLoader", "parse"]


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

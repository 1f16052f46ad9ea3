"""Where a call is in its flow: a small value that travels in the webhook URL, so any process can serve the call.

`to_params()` gives compact query parameters; `CallState.from_params()` reads them back and turns anything
malformed or tampered with into a safe start state (the engine then starts the flow again), never an exception.
The parameter `d` carries the digits a withheld caller keyed in: mask it in access logs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

FORMAT_VERSION = "1"

# One letter per flag in the `f` parameter.
_FLAG_LETTERS: Mapping[str, str] = {
    "returning_caller": "r",
    "withheld": "w",
    "has_on_call": "o",
    "number_confirmed": "c",
}
# What has helped the caller so far; letters in `f` too. A call may only end once one of these is set.
HELPS: Mapping[str, str] = {"human": "H", "callback": "C", "voicemail": "V", "info": "I"}
_LETTER_OF = {**_FLAG_LETTERS, **HELPS}
_NAME_OF = {letter: name for name, letter in _LETTER_OF.items()}

_PATTERNS: Mapping[str, re.Pattern[str]] = {
    "v": re.compile(re.escape(FORMAT_VERSION)),
    "n": re.compile(r"[a-z][a-z0-9_]{0,63}|"),
    "l": re.compile(r"[a-z]{2,3}|"),
    "f": re.compile(f"[{''.join(_NAME_OF)}]{{0,{len(_NAME_OF)}}}"),
    "r": re.compile(r"[0-9]{1,2}"),
    "a": re.compile(r"[0-9]{1,2}"),
    "g": re.compile(r"[0-9]{1,3}"),
    "p": re.compile(r"confirm|check"),
    "d": re.compile(r"[0-9]{1,15}"),
}
_REQUIRED = ("v", "n", "f")


@dataclass(frozen=True)
class CallState:
    """The call's position: node, language, counters, what we know about the caller, and what has helped them.

    The web adapter starts a call with `CallState(language=..., returning_caller=..., withheld=...,
    has_on_call=...)` and the event `Start()`; after that it only passes back the state an outcome gave it.
    """

    node: str = ""
    language: str = ""
    retries: int = 0
    attempts: int = 0
    gathers: int = 0
    phase: str = ""
    digits: str = ""
    returning_caller: bool = False
    withheld: bool = False
    has_on_call: bool = True
    number_confirmed: bool = False
    helped: frozenset[str] = field(default_factory=frozenset)

    @property
    def number_known(self) -> bool:
        """True when we can call or text the caller back: a caller ID, or a number they keyed in and confirmed."""
        return not self.withheld or self.number_confirmed

    def to_params(self) -> dict[str, str]:
        """Compact, URL-safe query parameters; defaults are left out."""
        flags = "".join(letter for name, letter in _FLAG_LETTERS.items() if getattr(self, name))
        flags += "".join(letter for name, letter in HELPS.items() if name in self.helped)
        params = {"v": FORMAT_VERSION, "n": self.node, "f": flags}
        optional = {"l": self.language, "r": self.retries, "a": self.attempts, "g": self.gathers}
        optional |= {"p": self.phase, "d": self.digits}
        params |= {key: str(value) for key, value in optional.items() if value}
        return params

    @classmethod
    def from_params(cls, params: Mapping[str, object]) -> CallState:
        """The state in `params`, or a safe start state when anything in it is missing, malformed or unknown."""
        values = {key: params.get(key) for key in _PATTERNS}
        if any(values[key] is None for key in _REQUIRED):
            return cls()
        for key, value in values.items():
            if value is not None and not (isinstance(value, str) and _PATTERNS[key].fullmatch(value)):
                return cls()
        text = {key: value for key, value in values.items() if isinstance(value, str)}
        letters = text["f"]
        if len(set(letters)) != len(letters):
            return cls()
        names = {_NAME_OF[letter] for letter in letters}
        return cls(
            node=text["n"],
            language=text.get("l", ""),
            retries=int(text.get("r", "0")),
            attempts=int(text.get("a", "0")),
            gathers=int(text.get("g", "0")),
            phase=text.get("p", ""),
            digits=text.get("d", ""),
            returning_caller="returning_caller" in names,
            withheld="withheld" in names,
            has_on_call="has_on_call" in names,
            number_confirmed="number_confirmed" in names,
            helped=frozenset(name for name in names if name in HELPS),
        )

"""The caller's and the advisor's side of a terminal call: which keys are pressed, what is said, how long."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Protocol


class Keypad(Protocol):
    """The caller's side: keys at a `<Gather>`, a spoken message at `<Record>`, a conversation with an advisor.

    Each returns None when the caller hangs up instead. `echoes`: the phone prints the keys (a script; a person
    sees what they typed).
    """

    echoes: bool

    def press(self, gather: ET.Element) -> str | None: ...

    def record(self, max_length: int) -> int | None: ...

    def talk(self) -> int | None: ...


class ScriptedKeypad:
    """Keys from a script, one item per `<Gather>` ("" is silence); silence when the script runs out."""

    echoes = True

    def __init__(self, keys: Sequence[str], record_seconds: int = 12, talk_seconds: int = 60) -> None:
        self.keys = list(keys)
        self.record_seconds = record_seconds
        self.talk_seconds = talk_seconds

    def press(self, gather: ET.Element) -> str | None:
        return self.keys.pop(0) if self.keys else ""

    def record(self, max_length: int) -> int | None:
        return min(self.record_seconds, max_length)

    def talk(self) -> int | None:
        return self.talk_seconds


class _AdvisorKeypad:
    """The advisor's phone during the whisper: presses 1, or (a voicemail box) nothing."""

    echoes = False

    def __init__(self, presses: str) -> None:
        self.presses = presses

    def press(self, gather: ET.Element) -> str | None:
        return self.presses

    def record(self, max_length: int) -> int | None:
        return 0

    def talk(self) -> int | None:
        return 0

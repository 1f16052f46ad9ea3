"""What happened on the call since the last step: the web adapter turns each Twilio webhook into one of these."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Start:
    """A new call (the first webhook). Counters are reset; the state's caller flags and language are kept."""


@dataclass(frozen=True)
class Digits:
    """The caller pressed keys (Twilio's `Digits`)."""

    value: str


@dataclass(frozen=True)
class Timeout:
    """The caller pressed nothing before the Gather timed out (an empty `Digits`)."""


@dataclass(frozen=True)
class ActionResult:
    """The result of an Action the adapter carried out: `name` is the action's kind, `value` one of its results."""

    name: str
    value: str


Event = Start | Digits | Timeout | ActionResult

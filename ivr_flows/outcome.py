"""What the engine tells the web adapter to do next: speech, then exactly one of Gather, Action or Hangup.

The adapter renders it with twilio's VoiceResponse (see docs/flows.md, "For the web adapter"):

- `Say(prompt, language, values)`: `<Say voice=... language=...>` with the catalogue's text of `prompt` in
  `language`, filled with `values` plus the adapter's own placeholder values (`Flow.placeholders`).
- `Play(prompt, language, audio)`: `<Play>` of the recording at `ivr_flows/audio/<audio>`.
- `Gather(num_digits, timeout_s, state)`: `<Gather action=URL(state) actionOnEmptyResult=true>`; empty Digits
  is the event Timeout.
- `Action(kind, params, state)`: carry out `kind` and report `ActionResult(kind, result)` with URL(state).
- `Hangup()`: `<Hangup/>`.

`chosen_language` says the caller picked a language in this step, so the adapter can remember it;
`asked_on_call` that the step depended on whether anyone is on call (`CallState.has_on_call`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ivr_flows.call_state import CallState


@dataclass(frozen=True)
class Say:
    """Speak the text of `prompt` in `language` with Twilio's voice for it."""

    prompt: str
    language: str
    values: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Play:
    """Play the recording of `prompt` in `language`; `audio` is its path under `ivr_flows/audio/`."""

    prompt: str
    language: str
    audio: str


Speech = Say | Play


@dataclass(frozen=True)
class Gather:
    """Wait for up to `num_digits` keys or `timeout_s` seconds of silence, then step again from `state`."""

    num_digits: int
    timeout_s: int
    state: CallState


@dataclass(frozen=True)
class Action:
    """Carry out `kind` with `params`, then step again from `state` with ActionResult(kind, <result>)."""

    kind: str
    params: Mapping[str, str]
    state: CallState


@dataclass(frozen=True)
class Hangup:
    """End the call. The engine only ends a call after the caller has been helped (`CallState.helped`)."""


Next = Gather | Action | Hangup


@dataclass(frozen=True)
class Outcome:
    """Speech to render in order, then what happens next."""

    speech: tuple[Speech, ...]
    next: Next
    # The language the caller chose with a key in this step (a menu key leading to a set_language node), for the
    # adapter to remember for their next call; None when no language was chosen.
    chosen_language: str | None = None
    # True when the walk went through a `check_hours` node, i.e. it depended on `CallState.has_on_call`: an adapter
    # that stepped with a guess (to spare itself reading the roster) must step again with the real answer.
    asked_on_call: bool = False

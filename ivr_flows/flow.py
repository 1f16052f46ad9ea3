"""The flow model: nodes, their exits, and what each kind of node means to the engine and the web adapter.

A flow is data (`ivr_flows/flows/*.yaml`, read by `flow_file.load_flow`). Every node may speak prompts on entry
(`say`) and then does one thing, its `kind`:

- `say`             go on to `next`
- `menu`            wait for one key; `keys` lead on, silence or a wrong key repeat the menu `retries` times,
                    then `give_up`
- `branch`          go to `then` or `else` on a condition of the call (see CONDITIONS)
- `set_language`    speak `language` from now on, go to `next`
- `check_hours`     `on_call` when an advisor is on call now, else `closed`
- `collect_number`  a withheld caller keys in their number, hears it read back, confirms; `ok` or `gave_up`
- `connect`, `callback`, `sms_info`, `voicemail`   done by the web adapter; the result picks the exit
- `goodbye`         hang up (only once the caller has been helped)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ivr_flows.languages import Languages

# Each kind's exits, by name. Menus have one exit per key plus `give_up`.
KIND_EXITS: Mapping[str, tuple[str, ...]] = {
    "say": ("next",),
    "menu": ("give_up",),
    "branch": ("then", "else"),
    "set_language": ("next",),
    "check_hours": ("on_call", "closed"),
    "collect_number": ("ok", "gave_up"),
    "connect": ("answered", "no_answer"),
    "callback": ("registered", "failed"),
    "sms_info": ("sent", "failed"),
    # kept: recorded, but a callback to the keyed-in number was refused by the caps (no call is promised)
    "voicemail": ("recorded", "kept", "empty"),
    "goodbye": (),
}

# Kinds that are node kinds written as `action: <kind>` in a flow file.
ACTION_KINDS = frozenset(KIND_EXITS) - {"say", "menu", "branch"}

# Actions the web adapter carries out; it answers with an ActionResult naming one of the kind's results.
ADAPTER_ACTIONS = frozenset({"connect", "callback", "sms_info", "voicemail", "validate_number"})

# The result an adapter action gets when the adapter reports something else (a failure, or nothing usable).
FAILURE_RESULT: Mapping[str, str] = {
    "connect": "no_answer",
    "callback": "failed",
    "sms_info": "failed",
    "voicemail": "empty",
    "validate_number": "refused",
}

# The exit of an adapter action after which the caller has been helped, and the help it is (CallState.helped).
# A voicemail helps whatever its result: the caller was offered the recording.
HELPED_BY: Mapping[str, tuple[str, str]] = {
    "connect": ("answered", "human"),
    "callback": ("registered", "callback"),
    "sms_info": ("sent", "info"),
}

# Parameters each kind takes in `with:`, and their allowed values (None: free text checked elsewhere).
KIND_PARAMS: Mapping[str, Mapping[str, frozenset[str] | None]] = {
    "connect": {"reason": frozenset({"acute", "question"})},
    # A callback's window is a key of the hotline's configured windows (config.yaml `callbacks.windows`):
    # `hotline check` holds the flow against them (check_flows(..., windows=...)).
    # `picked_by: caller` when the caller chose the window with a key: an open request moves to it and the quiet
    # hours do not apply; left out, the hotline chose it and a question is kept out of the quiet hours.
    "callback": {
        "window": None,
        "reason": frozenset({"acute", "question"}),
        "picked_by": frozenset({"caller", "hotline"}),
    },
    "sms_info": {"topic": frozenset({"offers", "handbook", "network", "mentor"})},
    "voicemail": {"max_length_s": None},
    "set_language": {"language": None},
}
OPTIONAL_PARAMS = frozenset({"max_length_s", "picked_by"})

# What a `branch` node may ask about the call.
CONDITIONS = frozenset({"returning_caller", "number_known"})

# Keys a caller can press, as they appear in a menu.
MENU_KEYS = frozenset("0123456789*#")


@dataclass(frozen=True)
class PromptRef:
    """A prompt to speak: its key, and a fixed language (for the language menu) or None for the caller's."""

    key: str
    line: int
    language: str | None = None


@dataclass(frozen=True)
class Exit:
    """One way out of a node: its label (a key, a result, `next`, ...), the target node, and its line."""

    label: str
    target: str
    line: int
    is_key: bool = False


@dataclass(frozen=True)
class Node:
    """One step of the call, where it is written (file and line), and its ways out."""

    id: str
    kind: str
    file: str
    line: int
    say: tuple[PromptRef, ...] = ()
    params: Mapping[str, str] = field(default_factory=dict)
    param_lines: Mapping[str, int] = field(default_factory=dict)
    exits: tuple[Exit, ...] = ()
    timeout_s: int = 0
    retries: int = 0
    on_silence: PromptRef | None = None
    on_invalid: PromptRef | None = None

    def exit(self, label: str) -> str | None:
        """The target of the exit named `label` (a key, for a menu); the last one wins, as in YAML."""
        target = None
        for candidate in self.exits:
            if candidate.label == label:
                target = candidate.target
        return target

    @property
    def keys(self) -> tuple[Exit, ...]:
        """A menu's key exits, in file order (duplicates included, so they can be reported)."""
        return tuple(e for e in self.exits if e.is_key)

    @property
    def waits_for_caller(self) -> bool:
        """True for nodes that wait for keys (menus, number entry)."""
        return self.kind in ("menu", "collect_number")


@dataclass(frozen=True)
class NumberEntry:
    """How `collect_number` asks a withheld caller for their number (prompt keys, keys and limits)."""

    length: int = 8
    country_code: str = "45"
    timeout_s: int = 12
    retries: int = 2
    refusals: int = 2
    confirm_key: str = "1"
    ask: str = "number.ask"
    readback: str = "number.readback"
    digit: str = "digit"
    confirm: str = "number.confirm"
    invalid: str = "number.invalid"
    refused: str = "number.refused"
    line: int = 0

    def prompts(self) -> tuple[str, ...]:
        """The prompt keys number entry speaks in every language (digit prompts are for recordings only)."""
        return (self.ask, self.readback, self.confirm, self.invalid, self.refused)

    def digit_prompts(self) -> tuple[str, ...]:
        """The prompts that read a number back digit by digit in a recorded language."""
        return tuple(f"{self.digit}.{d}" for d in "0123456789")


@dataclass(frozen=True)
class Flow:
    """A whole call flow: its nodes by id, where it starts, and its guards."""

    name: str
    file: str
    start: str
    overflow: str
    max_gathers: int
    nodes: Mapping[str, Node]
    languages: Languages
    number_entry: NumberEntry = field(default_factory=NumberEntry)
    placeholders: Mapping[str, str] = field(default_factory=dict)
    placeholder_lines: Mapping[str, int] = field(default_factory=dict)
    fallback_prompts: tuple[PromptRef, ...] = ()
    lines: Mapping[str, int] = field(default_factory=dict)

    def line_of(self, setting: str) -> int:
        """The line of a top-level setting such as `start` or `overflow` (0 when unknown)."""
        return self.lines.get(setting, 0)

"""The flow engine: one pure step of a call, from where it is and what just happened to what happens next.

`step(flow, state, event)` walks the flow from the state's node through nodes that need nothing from the caller
(prompts, branches, language, opening hours) until it must wait for keys (Gather), needs the adapter to act
(Action), or may end the call (Hangup). Its guarantees, whatever the flow file says:

- silence or a wrong key repeats a menu at most `retries` times, then follows the menu's `give_up`;
- after `max_gathers` menus in one call, the caller goes to the flow's `overflow` (a human, no more menus);
- a call is only hung up once the caller has been helped (a human, a registered callback, a voicemail, or
  information sent); a `goodbye` reached before that goes to `overflow` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from ivr_flows.call_state import CallState
from ivr_flows.events import ActionResult, Digits, Event, Start
from ivr_flows.flow import ADAPTER_ACTIONS, FAILURE_RESULT, HELPED_BY, KIND_EXITS, Flow, Node, PromptRef
from ivr_flows.outcome import Action, Gather, Hangup, Next, Outcome, Play, Say, Speech

# Nodes walked in one step before the flow is taken to loop without ever stopping.
MAX_HOPS = 100


class FlowError(Exception):
    """The flow leads nowhere (an unknown node, a missing exit, a loop); `hotline flows check` finds these."""


def step(flow: Flow, state: CallState, event: Event) -> Outcome:
    """What the caller hears next and what happens then, for `event` at `state` in `flow`."""
    if not flow.languages.is_enabled(state.language):
        state = replace(state, language=flow.languages.default)
    if isinstance(event, Start):
        state = CallState(
            language=state.language,
            returning_caller=state.returning_caller,
            withheld=state.withheld,
            has_on_call=state.has_on_call,
        )
        return _Turn(flow, state).go(flow.start)
    turn = _Turn(flow, state)
    node = flow.nodes.get(state.node)
    if node is None:  # an unknown or garbled position (or a node renamed mid-call): begin again
        return turn.go(flow.start)
    if node.kind == "menu":
        return turn.on_menu(node, event)
    if node.kind == "collect_number":
        return turn.on_number(node, event)
    if node.kind in ADAPTER_ACTIONS:
        return turn.on_result(node, event)
    return turn.go(node.id)  # the engine never rests on other nodes; walk on from there


class _Turn:
    """One step's work: the state as it changes and the speech gathered on the way."""

    def __init__(self, flow: Flow, state: CallState) -> None:
        self.flow = flow
        self.state = state
        self.speech: list[Speech] = []
        self.mark = 0  # speech before this index was spoken by nodes already passed
        self.overflowing = False
        self.chosen_language: str | None = None
        self.asked_on_call = False

    def go(self, target: str | None) -> Outcome:
        """Leave the current node for `target` and walk on until the caller or the adapter must act."""
        self.state = replace(self.state, retries=0, attempts=0, phase="")
        for _ in range(MAX_HOPS):
            node = self.flow.nodes.get(target or "")
            if node is None:
                problem = f"leads to {target!r}, which is not a node" if target else "has no way out here"
                raise FlowError(f"{self._here()} {problem}; run `hotline flows check`")
            if node.kind == "goodbye" and not self.state.helped:
                target = self.flow.overflow  # never hang up on a caller who has not been helped
                continue
            self.state = replace(self.state, node=node.id)
            self.mark = len(self.speech)
            self.say(node.say)
            result = self.enter(node)
            if isinstance(result, Outcome):
                return result
            target = result
        raise FlowError(f"{self._here()}: the flow walks {MAX_HOPS} nodes without waiting for the caller")

    def enter(self, node: Node) -> Outcome | str | None:
        """Do what `node` does; the next node's id, or the outcome when the walk stops here."""
        state = self.state
        if node.kind == "say":
            return node.exit("next")
        if node.kind == "set_language":
            if self.flow.languages.is_enabled(node.params["language"]):
                self.state = replace(state, language=node.params["language"])
            return node.exit("next")
        if node.kind == "branch":
            return node.exit("then" if getattr(state, node.params["condition"]) else "else")
        if node.kind == "check_hours":
            self.asked_on_call = True
            return node.exit("on_call" if state.has_on_call else "closed")
        if node.kind == "menu":
            return self.gather(1, node.timeout_s)
        if node.kind == "collect_number":
            return node.exit("ok") if state.number_known else self.ask_number(None)
        if node.kind == "goodbye":
            return self.finish(Hangup())
        return self.act(node.kind, node.params)

    def on_menu(self, node: Node, event: Event) -> Outcome:
        if isinstance(event, Digits):
            target = self.menu_target(node, event.value)
            if target is not None:
                destination = self.flow.nodes.get(target)
                if destination is not None and destination.kind == "set_language":
                    self.chosen_language = destination.params["language"]  # the caller's choice, by key
                return self.go(target)
        retries = self.state.retries + 1
        if retries > node.retries:
            return self.go(node.exit("give_up"))
        self.state = replace(self.state, retries=retries)
        again = node.on_invalid if isinstance(event, Digits) else node.on_silence
        self.say((again,) if again else ())
        self.say(node.say)
        return self.gather(1, node.timeout_s)

    def menu_target(self, node: Node, digits: str) -> str | None:
        """Where `digits` leads from a menu; None for a key the menu lacks or a language that is switched off."""
        target = next((e.target for e in reversed(node.keys) if e.label == digits), None)
        destination = self.flow.nodes.get(target or "")
        if destination and destination.kind == "set_language":
            return target if self.flow.languages.is_enabled(destination.params["language"]) else None
        return target

    def on_number(self, node: Node, event: Event) -> Outcome:
        entry = self.flow.number_entry
        state = self.state
        if state.phase == "":
            if (
                isinstance(event, Digits)
                and len(event.value) == entry.length
                and event.value.isascii()
                and event.value.isdigit()
            ):
                self.state = replace(state, phase="confirm", digits=event.value, retries=0)
                return self.read_back()
            return self.retry_number(node) or self.ask_number(entry.invalid)
        if state.phase == "confirm":
            if isinstance(event, Digits):
                if event.value == entry.confirm_key:
                    self.state = replace(state, phase="check")
                    return self.act("validate_number", {})
                return self.refuse_number(node, prompt=None)
            return self.retry_number(node) or self.read_back()
        if event == ActionResult("validate_number", "ok"):
            self.state = replace(state, number_confirmed=True)
            return self.go(node.exit("ok"))
        return self.refuse_number(node, prompt=entry.refused)

    def retry_number(self, node: Node) -> Outcome | None:
        """Count one more silence or wrong entry; the way out once there have been too many."""
        retries = self.state.retries + 1
        if retries > self.flow.number_entry.retries:
            self.state = replace(self.state, digits="")
            return self.go(node.exit("gave_up"))
        self.state = replace(self.state, retries=retries)
        return None

    def refuse_number(self, node: Node, prompt: str | None) -> Outcome:
        """The caller or the number guard said no to the number: ask again, or give up after `refusals`."""
        attempts = self.state.attempts + 1
        if attempts > self.flow.number_entry.refusals:
            self.state = replace(self.state, digits="")
            return self.go(node.exit("gave_up"))
        self.state = replace(self.state, attempts=attempts, retries=0, phase="", digits="")
        return self.ask_number(prompt)

    def ask_number(self, prompt: str | None) -> Outcome:
        entry = self.flow.number_entry
        if prompt:
            self.speak(prompt)
        self.speak(entry.ask)
        return self.gather(entry.length, entry.timeout_s)

    def read_back(self) -> Outcome:
        """Read the keyed-in number back digit by digit, then ask the caller to confirm it."""
        entry = self.flow.number_entry
        language = self.flow.languages.get(self.state.language)
        if language is not None and language.mode == "audio":
            self.speak(entry.readback)
            for digit in self.state.digits:
                self.speak(f"{entry.digit}.{digit}")
        else:
            self.speak(entry.readback, values={"digits": " ".join(self.state.digits)})
        self.speak(entry.confirm)
        return self.gather(1, entry.timeout_s)

    def on_result(self, node: Node, event: Event) -> Outcome:
        """Follow the exit for the adapter's result; anything unexpected counts as the action failing."""
        result = FAILURE_RESULT[node.kind]
        if (
            isinstance(event, ActionResult)
            and event.name == node.kind
            and event.value in KIND_EXITS[node.kind]
        ):
            result = event.value
        exit_name, help_name = HELPED_BY.get(node.kind, ("", ""))
        if result == exit_name:
            self.state = replace(self.state, helped=self.state.helped | {help_name})
        if node.exit(result) is None:
            raise FlowError(
                f"{node.file}:{node.line}: node {node.id!r} has no exit for the result {result!r}"
            )
        return self.go(node.exit(result))

    def act(self, kind: str, params: Mapping[str, str]) -> Outcome:
        """Ask the adapter to carry out `kind`; a withheld caller's confirmed number travels with it."""
        state = self.state
        full = {**params, "language": state.language}
        if state.digits and (state.number_confirmed or kind == "validate_number"):
            full["number"] = f"+{self.flow.number_entry.country_code}{state.digits}"
        if kind == "voicemail":
            state = replace(state, helped=state.helped | {"voicemail"})
        return self.finish(Action(kind, full, state))

    def gather(self, num_digits: int, timeout_s: int) -> Outcome:
        """Wait for keys, unless the caller has been through too many menus: then to the overflow."""
        if self.state.gathers >= self.flow.max_gathers:
            if self.overflowing:
                raise FlowError(f"{self._here()}: the overflow {self.flow.overflow!r} leads to a menu again")
            self.overflowing = True
            del self.speech[self.mark :]
            return self.go(self.flow.overflow)
        self.state = replace(self.state, gathers=self.state.gathers + 1)
        return self.finish(Gather(num_digits, timeout_s, self.state))

    def finish(self, next_: Next) -> Outcome:
        return Outcome(tuple(self.speech), next_, self.chosen_language, self.asked_on_call)

    def say(self, refs: tuple[PromptRef, ...]) -> None:
        for ref in refs:
            self.speak(ref.key, ref.language)

    def speak(self, key: str, language: str | None = None, values: Mapping[str, str] | None = None) -> None:
        """Add a prompt in `language` (the caller's by default); a language that is switched off is skipped."""
        settings = self.flow.languages.get(language or self.state.language)
        if settings is None or not settings.enabled:
            return
        if settings.mode == "audio":
            self.speech.append(Play(key, settings.code, settings.audio_path(key)))
        else:
            self.speech.append(Say(key, settings.code, dict(values or {})))

    def _here(self) -> str:
        node = self.flow.nodes.get(self.state.node)
        return f"{node.file}:{node.line}: node {node.id!r}" if node else f"{self.flow.file}: the start"

"""Fixtures for the flow engine tests: the shipped flow and prompts, and a scripted caller."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ivr_flows.call_state import CallState
from ivr_flows.engine import step
from ivr_flows.events import ActionResult, Digits, Event, Start, Timeout
from ivr_flows.flow import Flow
from ivr_flows.flow_file import MAIN_FLOW, load_flow
from ivr_flows.languages import Language, Languages
from ivr_flows.outcome import Action, Gather, Hangup, Outcome, Play, Say
from ivr_flows.prompts import PromptCatalogue

FIXTURES = Path(__file__).with_name("fixtures")

# What the web adapter would fill in; every spoken prompt is rendered with these to prove it can be.
ADAPTER_VALUES = {
    "service_name": "Pårørendelinjen",
    "next_open": "i morgen klokken 8",
    "this_evening_start": "17",
    "this_evening_end": "21",
    "tomorrow_morning_start": "7",
    "tomorrow_morning_end": "9",
    "tomorrow_daytime_start": "9",
    "tomorrow_daytime_end": "15",
    "callback_by": "i dag inden kl. 18.30",
}


@pytest.fixture(scope="session")
def catalogue() -> PromptCatalogue:
    return PromptCatalogue.load()


SPOKEN = {"da": "Dansk", "en": "English", "ar": "العربية", "tr": "Türkçe", "uk": "Українська", "pl": "Polski"}


@pytest.fixture(scope="session")
def languages() -> Languages:
    """The languages the engine is tested with, built the way the hotline builds them from config.yaml. The
    voices are stand-ins (the engine only passes them on); Somali is recorded, and off until it is recorded."""
    spoken = [
        Language(code, name, "tts", f"{code}-TEST", f"test-voice-{code}") for code, name in SPOKEN.items()
    ]
    return Languages.create(
        "da", [*spoken, Language("so", "Soomaali", "audio", enabled=False)], source="the test languages"
    )


@pytest.fixture(scope="session")
def flow(languages: Languages) -> Flow:
    """The shipped flow with the test languages (Somali switched off until it is recorded)."""
    return load_flow(MAIN_FLOW, languages)


@pytest.fixture(scope="session")
def flow_with_somali(languages: Languages) -> Flow:
    return load_flow(MAIN_FLOW, languages.only(languages.by_code))


@dataclass
class Call:
    """A caller working through a flow: send events, then read what they heard and what the adapter was asked."""

    flow: Flow
    catalogue: PromptCatalogue
    state: CallState
    outcomes: list[Outcome] = field(default_factory=list)

    def send(self, event: Event) -> Outcome:
        outcome = step(self.flow, self.state, event)
        for item in outcome.speech:
            if isinstance(item, Say):  # renders, or the adapter would fail on it
                self.catalogue.text(item.language, item.prompt, **{**ADAPTER_VALUES, **item.values})
        self.outcomes.append(outcome)
        if isinstance(outcome.next, Gather | Action):
            self.state = outcome.next.state
        return outcome

    def run(self, script: str) -> Call:
        """`start`, keys (`1`, `67123456`, `*`), `.` for silence, `=value` for the pending action's result."""
        for token in script.split():
            if self.ended:
                raise AssertionError(f"the call already ended before {token!r}; heard {self.said}")
            if token == "start":
                self.send(Start())
            elif token == ".":
                self.send(Timeout())
            elif token.startswith("="):
                pending = self.outcomes[-1].next
                assert isinstance(pending, Action), f"no action waits for {token!r}; got {pending}"
                self.send(ActionResult(pending.kind, token[1:]))
            elif re.fullmatch(r"[0-9*#]+", token):
                self.send(Digits(token))
            else:
                raise ValueError(f"unknown script token {token!r}")
        return self

    @property
    def ended(self) -> bool:
        return bool(self.outcomes) and isinstance(self.outcomes[-1].next, Hangup)

    @property
    def actions(self) -> list[Action]:
        return [o.next for o in self.outcomes if isinstance(o.next, Action)]

    @property
    def trace(self) -> list[str]:
        """What the adapter was asked to do, as `kind value value`, then `hangup` if the call ended."""
        steps = [
            " ".join([a.kind, *(v for k, v in sorted(a.params.items()) if k != "language")])
            for a in self.actions
        ]
        return steps + (["hangup"] if self.ended else [])

    @property
    def said(self) -> list[str]:
        return [item.prompt for o in self.outcomes for item in o.speech]

    @property
    def spoken(self) -> list[Say | Play]:
        return [item for o in self.outcomes for item in o.speech]


@pytest.fixture
def call(flow: Flow, catalogue: PromptCatalogue) -> Callable[..., Call]:
    """Start a scripted call: `call("start 1 2 =answered", withheld=True)`."""

    def make(
        script: str, *, on: Flow | None = None, prompts: PromptCatalogue | None = None, **caller: object
    ) -> Call:
        return Call(on or flow, prompts or catalogue, CallState(**caller)).run(script)  # type: ignore[arg-type]

    return make

"""The ordered chain of advisors to ring for one call, with the reasons for the order.

`build_chain` looks up who is on call and orders them; `chain_from_entries` orders entries that are already
known (the escalation engine and the benchmark use it). The order, each rule switchable in `ChainPreferences`:

1. the relative's own contact person, when on call in a layer the call may reach;
2. primary before backup before manager (acute calls reach the manager; questions stop after backup);
3. within a layer, advisors who speak the caller's language first;
4. then by advisor id, so the same roster always gives the same order.

Advisors in `busy` are left out and listed as skipped; an advisor in several layers is rung once, at the
earliest layer. An empty chain is a valid answer: the caller goes to the callback queue.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Literal

from routing.numbers import mask_number
from routing.oncall import OnCallEntry, Source, oncall_at
from routing.roster import Advisor, Layer, Roster
from routing.wallclock import COPENHAGEN, to_utc
from routing.wording.catalogue import both, da, language_ref

__all__ = ["Chain", "ChainPreferences", "ChainStep", "Reason", "Skipped", "build_chain", "chain_from_entries"]

Reason = Literal["acute", "question"]

ALL_LAYERS: tuple[Layer, ...] = (Layer.PRIMARY, Layer.BACKUP, Layer.MANAGER)


@dataclass(frozen=True)
class ChainPreferences:
    """Switches for the ordering rules; the defaults are the hotline's policy."""

    contact_person_first: bool = True
    language_first: bool = True
    layer_order: bool = True
    acute_layers: tuple[Layer, ...] = ALL_LAYERS
    question_layers: tuple[Layer, ...] = (Layer.PRIMARY, Layer.BACKUP)

    def layers_for(self, reason: Reason) -> tuple[Layer, ...]:
        if reason == "acute":
            return self.acute_layers
        if reason == "question":
            return self.question_layers
        raise ValueError(f"reason must be 'acute' or 'question', not {reason!r}")


@dataclass(frozen=True)
class ChainStep:
    """One advisor to ring, with the on-call entry that puts them in the chain."""

    entry: OnCallEntry
    language: str
    is_contact_person: bool

    @property
    def advisor(self) -> Advisor:
        return self.entry.advisor

    @property
    def layer(self) -> Layer:
        return self.entry.layer

    @cached_property
    def why(self) -> tuple[str, ...]:
        """Why this advisor is in the chain at this place, in Danish with English in parentheses."""
        e = self.entry
        why: list[str] = []
        if self.is_contact_person:
            why.append(both("label.contact_person"))
        if e.advisor.speaks(self.language):
            why.append(both("chain.speaks", language=language_ref(self.language)))
        why.append(both(e.layer.message_id))
        if e.covers is not None:
            why.append(both("oncall.covering", advisor=e.covers))
        elif e.source is Source.OVERRIDE:
            why.append(both("oncall.extra_shift"))
        elif e.source is Source.HOLIDAY:
            why.append(f"{both('oncall.holiday_pattern')}: {e.note}")
        return tuple(why)


@dataclass(frozen=True)
class Skipped:
    advisor: Advisor
    why: str


@dataclass(frozen=True)
class Chain:
    """Whom to ring, in order, for a call at `at`; `skipped` lists on-call advisors left out and why."""

    at: datetime
    reason: Reason
    language: str
    steps: tuple[ChainStep, ...]
    skipped: tuple[Skipped, ...] = ()

    def __len__(self) -> int:
        return len(self.steps)

    def __bool__(self) -> bool:
        return bool(self.steps)

    @property
    def advisor_ids(self) -> list[str]:
        return [s.advisor.id for s in self.steps]

    def explain(self) -> list[str]:
        """Lines for the `hotline oncall` printout: the order and the reasons, in Danish with English."""
        local = self.at.astimezone(COPENHAGEN)
        heading = da("chain.heading", at=f"{local:%Y-%m-%d %H:%M}", zone=f"{local:%Z}")
        lines = [f"{heading}, {both('reason.' + self.reason)}, {both('label.language')}: {self.language}"]
        if not self.steps:
            lines.append(f"  {both('chain.nobody')}: {both('chain.to_queue')}")
        for n, step in enumerate(self.steps, 1):
            a = step.advisor
            lines.append(f"  {n}. {a.name} ({a.id}, {mask_number(a.phone)}): {', '.join(step.why)}")
        for skip in self.skipped:
            lines.append(f"  {both('chain.skipped')}: {skip.advisor.name} ({skip.advisor.id}): {skip.why}")
        return lines


def build_chain(
    roster: Roster,
    t: datetime,
    *,
    reason: Reason,
    language: str,
    contact_person_id: str | None = None,
    busy: Iterable[str] = frozenset(),
    prefs: ChainPreferences | None = None,
) -> Chain:
    """The chain of advisors to ring for a call at `t` (aware) from a relative speaking `language`."""
    return chain_from_entries(
        oncall_at(roster, t),
        t,
        reason=reason,
        language=language,
        contact_person_id=contact_person_id,
        busy=busy,
        prefs=prefs,
    )


def chain_from_entries(
    entries: Iterable[OnCallEntry],
    t: datetime,
    *,
    reason: Reason,
    language: str,
    contact_person_id: str | None = None,
    busy: Iterable[str] = frozenset(),
    prefs: ChainPreferences | None = None,
) -> Chain:
    """Order the on-call `entries` into a chain (see the module docstring for the rules)."""
    prefs = prefs or ChainPreferences()
    t = to_utc(t, "t")
    language = language.lower()
    position = {layer: n for n, layer in enumerate(prefs.layers_for(reason))}
    busy_ids = set(busy)
    best: dict[str, OnCallEntry] = {}
    for entry in entries:
        if entry.layer not in position or not entry.advisor.active:
            continue
        held = best.get(entry.advisor.id)
        if held is None or position[entry.layer] < position[held.layer]:
            best[entry.advisor.id] = entry
    skipped = tuple(
        Skipped(
            e.advisor,
            both("chain.busy")
            + (f", {both('label.contact_person')}" if e.advisor.id == contact_person_id else ""),
        )
        for e in sorted(best.values(), key=lambda e: e.advisor.id)
        if e.advisor.id in busy_ids
    )
    candidates = [e for e in best.values() if e.advisor.id not in busy_ids]

    def rank(e: OnCallEntry) -> tuple[bool, int, bool, str]:
        return (
            not (prefs.contact_person_first and e.advisor.id == contact_person_id),
            position[e.layer] if prefs.layer_order else 0,
            not (prefs.language_first and language in e.advisor.languages),
            e.advisor.id,
        )

    candidates.sort(key=rank)
    steps = tuple(ChainStep(e, language, e.advisor.id == contact_person_id) for e in candidates)
    return Chain(t, reason, language, steps, skipped)

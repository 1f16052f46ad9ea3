"""Whom to ring for a call now: the roster in force, the relative's contact person, who is busy."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from hotline.config.sections import WEEKDAYS
from hotline.config.settings import Settings
from hotline.services import presence, rosters
from routing.chain import Chain, ChainPreferences, Reason, build_chain
from routing.gaps import CoverageHours, WeeklyWindow
from routing.roster import Layer, Roster


def chain_for(
    session: Session,
    settings: Settings,
    *,
    at: datetime,
    reason: Reason,
    language: str,
    contact_person_id: str | None,
) -> Chain:
    """The ordered chain for a call at `at`; empty when no roster is imported or nobody is on call."""
    roster = rosters.current_roster(session) or Roster()
    busy = presence.busy_advisors(
        session, at, timedelta(minutes=settings.file.escalation.busy_expiry_minutes)
    )
    return chain_at(
        roster,
        settings,
        at=at,
        reason=reason,
        language=language,
        contact_person_id=contact_person_id,
        busy=busy,
    )


def chain_at(
    roster: Roster,
    settings: Settings,
    *,
    at: datetime,
    reason: Reason,
    language: str,
    contact_person_id: str | None = None,
    busy: Iterable[str] = frozenset(),
) -> Chain:
    """The chain for a call at `at` as `roster` decides it with config.yaml's preferences, leaving out the `busy`
    advisors (none by default: busy is a fact about now): what `hotline oncall --at` prints and the console's
    chain preview shows."""
    return build_chain(
        roster,
        at,
        reason=reason,
        language=language,
        contact_person_id=contact_person_id,
        busy=busy,
        prefs=preferences(settings),
    )


def preferences(settings: Settings) -> ChainPreferences:
    """config.yaml's `routing:` switches as the chain's preferences."""
    config = settings.file.routing
    return ChainPreferences(
        contact_person_first=config.contact_person_first,
        language_first=config.language_first,
        layer_order=config.layer_order,
        acute_layers=tuple(Layer(name) for name in config.acute_layers),
        question_layers=tuple(Layer(name) for name in config.question_layers),
    )


def coverage_hours(settings: Settings) -> CoverageHours:
    """config.yaml's promised hours (none configured: 24/7)."""
    return CoverageHours(
        tuple(
            WeeklyWindow(tuple(WEEKDAYS.index(day) for day in window.days), window.start, window.end)
            for window in settings.file.routing.coverage_hours
        )
    )

"""Work per webhook, counted. SQL statements at the engine: the greeting issues at most 2 (the call row, the
caller's remembered language), a flow step at most 3, and no path issues a statement per advisor or per shift (the
same count with 3 advisors as with 30). The roster is parsed once per version; no request parses YAML (config,
flows, prompts, rosters) again; each number in a request is parsed once."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import phonenumbers
import pytest
import time_machine
import yaml
from flask import Flask
from sqlalchemy import select

from hotline.db.models import Relative
from hotline.services import rosters
from tests.helpers import AppFactory, call_params, counted, dial_in, import_roster, roster_of, signer

# The greeting path and the flow steps walked in tests/hotline/test_ivr.py, on a Monday morning.
MONDAY_MORNING = "2026-11-23T09:00:00+00:00"
MAIN_MENU = "/twilio/voice/step?v=1&n=main_menu&f=o&l=da&g=1"
LANGUAGE_MENU = "/twilio/voice/step?v=1&n=language_menu&f=o&g=1"
CALLBACK_MENU = "/twilio/voice/step?v=1&n=callback_menu&f=o&l=da&g=2"
CONNECT = "/twilio/voice/connect?reason=question&lang=da&flow=v%3D1%26n%3Dquestion_connect%26f%3Do%26l%3Dda"


_callers = itertools.count(1)


def _number(_i: int) -> str:
    """A caller the database has not seen in this test."""
    return f"+45670{next(_callers):05d}"


def _post(app: Flask, path: str, params: dict[str, str]) -> str:
    answer = signer(app).post(path, params)
    assert answer.status_code == 200, answer.data[:300]
    text = answer.get_data(as_text=True)
    assert "<Say" in text or "<Dial" in text or "<Redirect" in text, text[:300]
    return text


def _greeting_new(app: Flask, i: int) -> list[str]:
    params = call_params(from_=_number(i))
    with counted(app.extensions["hotline"].engine) as statements:
        _post(app, "/twilio/voice", params)
    return statements


def _greeting_returning(app: Flask, i: int) -> list[str]:
    caller = _number(i)
    first = call_params(from_=caller)
    _post(app, "/twilio/voice", first)
    _post(app, LANGUAGE_MENU, {**first, "Digits": "2"})  # remembers English
    with counted(app.extensions["hotline"].engine) as statements:
        text = _post(app, "/twilio/voice", call_params(from_=caller))
    assert "n%3Dmain_menu" in text or "n=main_menu" in text, text  # the language menu skipped
    return statements


def _greeting_withheld(app: Flask, _i: int) -> list[str]:
    with counted(app.extensions["hotline"].engine) as statements:
        _post(app, "/twilio/voice", call_params(from_="anonymous"))
    return statements


def _step(path: str, digits: str) -> Callable[[Flask, int], list[str]]:
    def walk(app: Flask, i: int) -> list[str]:
        params = call_params(from_=_number(i))
        _post(app, "/twilio/voice", params)
        with counted(app.extensions["hotline"].engine) as statements:
            _post(app, path, {**params, "Digits": digits, "CallStatus": "in-progress"})
        return statements

    return walk


GREETINGS = {
    "new caller": _greeting_new,
    "returning caller": _greeting_returning,
    "withheld": _greeting_withheld,
}
STEPS = {
    "menu again": _step(MAIN_MENU, "9"),
    "language chosen": _step(LANGUAGE_MENU, "2"),
    "put through": _step(MAIN_MENU, "2"),
    "silence": _step(MAIN_MENU, ""),
}
# Steps that carry out an action (a callback registered, texts queued) or ring the chain write more rows; they are
# held to the N+1 rule only.
ACTIONS = {"callback ordered": _step(CALLBACK_MENU, "2"), "connect": _step(CONNECT, "")}


def _counts(app: Flask, walk: Callable[[Flask, int], list[str]]) -> list[int]:
    walk(app, 0)  # warm: the roster read once per version, statements compiled
    return [len(walk(app, i)) for i in (1, 2)]


@pytest.fixture
def roster_app(app: Flask) -> Iterator[Flask]:
    import_roster(app, roster_of(3))
    with time_machine.travel(MONDAY_MORNING, tick=False):
        yield app


@pytest.mark.parametrize("name", GREETINGS)
def test_a_greeting_costs_at_most_two_statements(roster_app: Flask, name: str) -> None:
    counts = _counts(roster_app, GREETINGS[name])
    assert max(counts) <= 2, counts


@pytest.mark.parametrize("name", STEPS)
def test_a_flow_step_costs_at_most_three_statements(roster_app: Flask, name: str) -> None:
    counts = _counts(roster_app, STEPS[name])
    assert max(counts) <= 3, counts


@pytest.mark.parametrize("name", [*GREETINGS, *STEPS, *ACTIONS])
def test_no_path_costs_a_statement_per_advisor_or_shift(app: Flask, name: str) -> None:
    walk = {**GREETINGS, **STEPS, **ACTIONS}[name]
    with time_machine.travel(MONDAY_MORNING, tick=False):
        import_roster(app, roster_of(3))
        few = _counts(app, walk)
        import_roster(app, roster_of(30))
        many = _counts(app, walk)
    assert few == many


def _counting(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[object]:
    """Calls of `owner.name` from now on (the function still runs)."""
    calls: list[object] = []
    real = getattr(owner, name)

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[:1])
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, counting)
    return calls


def _walk_everything(app: Flask) -> None:
    for walk in {**GREETINGS, **STEPS, **ACTIONS}.values():
        walk(app, 0)


def test_no_request_parses_yaml_again(roster_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Config, flows, prompts and the roster are parsed when the app starts or the roster changes, never per
    request: every YAML document goes through yaml.load or yaml.compose (routing.yaml_parser)."""
    _walk_everything(roster_app)  # the roster parsed once, for its version
    loads = _counting(monkeypatch, yaml, "load")
    composes = _counting(monkeypatch, yaml, "compose")
    rosters_parsed = _counting(monkeypatch, rosters, "load_roster")

    _walk_everything(roster_app)

    assert (loads, composes, rosters_parsed) == ([], [], [])


def test_a_roster_import_is_parsed_once_by_the_next_request(
    roster_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    _walk_everything(roster_app)
    import_roster(roster_app, roster_of(4))
    parsed = _counting(monkeypatch, rosters, "load_roster")

    _walk_everything(roster_app)

    assert len(parsed) == 1


@pytest.mark.parametrize(("name", "most"), [("new caller", 2), ("withheld", 1)])
def test_each_number_of_a_new_call_is_parsed_once(
    roster_app: Flask, monkeypatch: pytest.MonkeyPatch, name: str, most: int
) -> None:
    """The caller's number and the number called are parsed once each, at the edge (a withheld caller's not at all)."""
    GREETINGS[name](roster_app, 0)
    parses = _counting(monkeypatch, phonenumbers, "parse")
    GREETINGS[name](roster_app, 1)
    assert len(parses) <= most, parses


def test_a_step_parses_the_callers_number_once(roster_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    params = call_params(from_=_number(0))
    _post(roster_app, "/twilio/voice", params)
    parses = _counting(monkeypatch, phonenumbers, "parse")
    _post(roster_app, MAIN_MENU, {**params, "Digits": "9", "CallStatus": "in-progress"})
    assert len(parses) == 1, parses


def test_a_roster_import_is_seen_by_another_app_on_its_next_request(make_app: AppFactory) -> None:
    """Two apps on one database (two workers): the roster one imports is in force in the other's next request."""
    importer, other = make_app(), make_app()
    put_through = {**call_params(from_=_number(0)), "Digits": "2", "CallStatus": "in-progress"}
    with time_machine.travel(MONDAY_MORNING, tick=False):
        before = _post(other, MAIN_MENU, put_through)
        import_roster(importer, roster_of(3))
        after = _post(other, MAIN_MENU, put_through)
    assert "/twilio/voice/connect" not in before  # nobody rostered: the caller is told when we open
    assert "/twilio/voice/connect" in after


def test_answers_kept_in_memory_still_remember_each_callers_language(roster_app: Flask) -> None:
    """Menus every caller hears alike are answered from memory; choosing a language never is, so each caller's
    choice is stored."""
    callers = [_number(0) for _ in range(3)]
    for caller in callers:
        first = call_params(from_=caller)
        _post(roster_app, "/twilio/voice", first)
        _post(roster_app, LANGUAGE_MENU, {**first, "Digits": "2"})
    assert roster_app.extensions["hotline"].answers  # the greeting, at least, was kept
    with roster_app.extensions["hotline"].sessions() as session:
        remembered = session.execute(
            select(Relative.phone_number, Relative.language).where(Relative.phone_number.in_(callers))
        ).all()
    assert sorted(remembered) == sorted((caller, "en") for caller in callers)


def test_no_kept_answer_holds_a_number_a_caller_keyed_in(roster_app: Flask) -> None:
    dial_in(roster_app, ["1", "3", "67000003", "1", "2"], caller="anonymous")
    dial_in(roster_app, ["1", "3", "67000003", "1", "2"], caller="anonymous")
    kept = roster_app.extensions["hotline"].answers
    assert kept
    forms = ("67000003", "6 7 0 0 0 0 0 3")  # as keyed in, and as read back
    assert not [key for key, text in kept.items() for form in forms if form in repr(key) or form in text]

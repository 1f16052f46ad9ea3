"""The call's position travels in the webhook URL: compact, exact, and safe against garbage."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr_flows.call_state import HELPS, CallState

states = st.builds(
    CallState,
    node=st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True),
    language=st.sampled_from(["", "da", "en", "ar", "so"]),
    retries=st.integers(0, 99),
    attempts=st.integers(0, 99),
    gathers=st.integers(0, 999),
    phase=st.sampled_from(["", "confirm", "check"]),
    digits=st.from_regex(r"[0-9]{0,8}", fullmatch=True),
    returning_caller=st.booleans(),
    withheld=st.booleans(),
    has_on_call=st.booleans(),
    number_confirmed=st.booleans(),
    helped=st.frozensets(st.sampled_from(sorted(HELPS))),
)


@given(states)
def test_a_state_survives_the_trip_through_a_url(state):
    query = urlencode(state.to_params())

    assert CallState.from_params(dict(parse_qsl(query, keep_blank_values=True))) == state


def test_the_params_are_compact():
    assert CallState(node="main_menu", language="da").to_params() == {
        "v": "1",
        "n": "main_menu",
        "f": "o",
        "l": "da",
    }


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"n": "main_menu", "f": "o"},  # no version
        {"v": "2", "n": "main_menu", "f": "o"},  # another format
        {"v": "1", "n": "Main Menu", "f": "o"},
        {"v": "1", "n": "main_menu", "f": "oo"},
        {"v": "1", "n": "main_menu", "f": "z"},
        {"v": "1", "n": "main_menu", "f": "o", "r": "-1"},
        {"v": "1", "n": "main_menu", "f": "o", "g": "1e9"},
        {"v": "1", "n": "main_menu", "f": "o", "d": "6712abc"},
        {"v": "1", "n": "main_menu", "f": "o", "p": "hack"},
        {"v": "1", "n": "main_menu", "f": "o", "l": "../../etc"},
        {"v": ["1"], "n": "main_menu", "f": "o"},
    ],
)
def test_garbage_gives_a_safe_start_state(params):
    assert CallState.from_params(params) == CallState()


def test_unknown_extra_params_are_ignored():
    state = CallState(node="info_menu", withheld=True)

    assert CallState.from_params({**state.to_params(), "event": "timeout"}) == state


def test_a_withheld_caller_with_a_confirmed_number_is_known():
    assert not CallState(withheld=True).number_known
    assert CallState(withheld=True, number_confirmed=True).number_known
    assert CallState().number_known

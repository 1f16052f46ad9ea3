"""The engine's promises, whatever the caller does: no dead end, no hang-up before help, no endless menus."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr_flows.call_state import CallState
from ivr_flows.engine import FlowError, step
from ivr_flows.events import ActionResult, Digits, Start, Timeout
from ivr_flows.flow import FAILURE_RESULT, KIND_EXITS
from ivr_flows.flow_file import load_flow
from ivr_flows.outcome import Action, Gather, Hangup
from ivr_flows.prompts import PromptCatalogue

from .conftest import FIXTURES

MAX_STEPS = 250
HELPING_RESULTS = {("connect", "answered"), ("callback", "registered"), ("sms_info", "sent")}
RESULT_NAMES = sorted({*KIND_EXITS, "validate_number"})
RESULT_VALUES = sorted(
    {v for values in KIND_EXITS.values() for v in values} | {"ok", "refused", "", "garbage"}
)

events = st.one_of(
    st.just(Timeout()),
    st.builds(Digits, st.text("0123456789*#", max_size=9)),
    st.builds(Digits, st.sampled_from(["1", "2", "3", "4", "9", "0", "*", "67123456", "68000000"])),
    st.builds(ActionResult, st.sampled_from(RESULT_NAMES), st.sampled_from(RESULT_VALUES)),
)
callers = st.builds(
    CallState,
    language=st.sampled_from(["", "da", "en", "ar", "so", "xx"]),
    returning_caller=st.booleans(),
    withheld=st.booleans(),
    has_on_call=st.booleans(),
)


def _pending_result(outcome, draw_event):
    """The next event: drawn at random, but mostly the answer the pending action would get."""
    event = draw_event()
    if isinstance(outcome.next, Action) and not isinstance(event, ActionResult):
        return (
            ActionResult(outcome.next.kind, FAILURE_RESULT[outcome.next.kind])
            if event == Timeout()
            else event
        )
    return event


@settings(max_examples=300, deadline=None)
@given(caller=callers, data=st.data())
def test_any_caller_is_helped_before_the_call_ends(flow, caller, data):
    outcome = step(flow, caller, Start())
    helped = False
    for _ in range(MAX_STEPS):
        if isinstance(outcome.next, Hangup):
            assert helped, "hung up on a caller who got no human, callback, voicemail or information"
            return
        assert outcome.next.state.node in flow.nodes
        if isinstance(outcome.next, Action) and outcome.next.kind == "voicemail":
            helped = True
        event = _pending_result(outcome, lambda: data.draw(events))
        if isinstance(outcome.next, Action) and isinstance(event, ActionResult):
            helped |= (outcome.next.kind, event.value) in HELPING_RESULTS and event.name == outcome.next.kind
        travelled = CallState.from_params(outcome.next.state.to_params())  # through the webhook URL
        outcome = step(flow, travelled, event)
    pytest.fail(f"the call did not end within {MAX_STEPS} steps")


@settings(max_examples=300, deadline=None)
@given(params=st.dictionaries(st.sampled_from(list("vnlfragpdx")), st.text(max_size=12)), event=events)
def test_any_tampered_url_still_gets_a_working_answer(flow, params, event):
    outcome = step(flow, CallState.from_params(params), event)

    assert isinstance(outcome.next, Gather | Action | Hangup)
    assert isinstance(outcome.next, Hangup) or outcome.next.state.node in flow.nodes


def _without_on_call(outcome):
    """The outcome with the on-call flag its next state carries left out."""
    if isinstance(outcome.next, Hangup):
        return outcome.speech, outcome.next
    return outcome.speech, replace(outcome.next, state=replace(outcome.next.state, has_on_call=True))


nodes_and_states = st.builds(
    lambda caller, node: replace(caller, node=node),
    callers,
    st.sampled_from(
        ["", "main_menu", "language_menu", "callback_menu", "acute", "question", "overflow", "x"]
    ),
)


@settings(max_examples=300, deadline=None)
@given(state=nodes_and_states, event=st.one_of(events, st.just(Start())))
def test_a_step_that_did_not_ask_who_is_on_call_is_the_same_whoever_is(flow, state, event):
    """The web adapter steps with a guess of `has_on_call` and reads the roster only when the outcome says the
    walk asked (`asked_on_call`): an outcome that did not ask must not depend on the answer."""
    on = step(flow, replace(state, has_on_call=True), event)
    off = step(flow, replace(state, has_on_call=False), event)

    assert on.asked_on_call == off.asked_on_call
    if not on.asked_on_call:
        assert _without_on_call(on) == _without_on_call(off)


def test_putting_a_caller_through_asks_who_is_on_call(flow):
    greeting = step(flow, CallState(language="da", returning_caller=True), Start())
    menu_again = step(flow, greeting.next.state, Digits("9"))
    question = step(flow, greeting.next.state, Digits("2"))

    assert (greeting.asked_on_call, menu_again.asked_on_call, question.asked_on_call) == (False, False, True)


@pytest.mark.parametrize(
    ("caller", "first"),
    [
        ({}, "connect question"),
        ({"withheld": True}, "connect question"),
        ({"has_on_call": False}, "voicemail 180"),  # nobody to put them through to
        ({"returning_caller": True}, "connect question"),
    ],
)
def test_a_silent_caller_reaches_a_human_or_voicemail_and_is_never_simply_dropped(call, caller, first):
    heard = call("start", **caller)
    while not heard.ended:
        pending = heard.outcomes[-1].next
        heard.run("." if isinstance(pending, Gather) else f"={FAILURE_RESULT[pending.kind]}")

    assert heard.trace[0] == first
    assert "voicemail 180" in heard.trace


def test_after_too_many_menus_the_caller_is_put_through(call, flow):
    heard = call("start 1" + " 9" * (flow.max_gathers - 1))  # the language menu was the first

    assert heard.trace == ["connect question"]
    assert heard.said[-1] == "connect.overflow"
    assert "menu.main" not in heard.outcomes[-1].speech


def test_a_goodbye_before_any_help_puts_the_caller_through_instead(call, languages):
    unsafe = load_flow(FIXTURES / "hangup_without_help.yaml", languages)

    heard = call("start 3", on=unsafe, prompts=PromptCatalogue.load(FIXTURES / "prompts"))

    assert heard.trace == ["connect question"]
    assert "goodbye.bye" not in heard.said


def test_a_switched_off_language_is_neither_offered_nor_accepted(call):
    heard = call("start 7")

    assert all(item.language != "so" for item in heard.spoken)
    assert [item.prompt for item in heard.outcomes[-1].speech] == ["menu.invalid"] + ["language.choose"] * 6


@pytest.mark.parametrize(
    "event",
    [Digits("1"), Timeout(), ActionResult("callback", "answered"), ActionResult("connect", "busy")],
    ids=["keys", "silence", "another action's result", "an unknown result"],
)
def test_anything_but_a_known_result_counts_as_the_action_failing(flow, event):
    at_connect = CallState(node="question_connect", language="en")

    outcome = step(flow, at_connect, event)

    # Nobody answered, as far as the flow knows: the caller is asked when to be called back.
    assert isinstance(outcome.next, Gather)
    assert outcome.next.state.node == "question_callback_menu"
    assert [i.prompt for i in outcome.speech] == ["connect.question_no_answer", "callback.menu"]
    assert outcome.next.state.helped == frozenset()


@pytest.mark.parametrize("node", ["no_such_node", "", "acute"])
def test_an_unknown_or_resting_node_begins_the_flow_again(flow, node):
    outcome = step(flow, CallState(node=node, withheld=True, has_on_call=False), Digits("1"))

    if node == "acute":  # a node the engine never rests on is walked on from: the roster is closed
        assert [i.prompt for i in outcome.speech][:1] == ["closed.message"]
    else:
        assert [i.prompt for i in outcome.speech][:2] == ["system.greeting", "system.emergency"]
    assert isinstance(outcome.next, Gather)
    assert outcome.next.state.withheld


def test_start_resets_the_call_but_keeps_what_the_adapter_knows(flow):
    used = CallState(
        node="main_menu", language="en", retries=2, gathers=12, withheld=True, helped=frozenset({"info"})
    )

    outcome = step(flow, used, Start())

    assert isinstance(outcome.next, Gather)
    state = outcome.next.state
    assert (state.node, state.language, state.withheld, state.gathers, state.helped) == (
        "language_menu",
        "en",
        True,
        1,
        frozenset(),
    )


def test_a_broken_flow_raises_a_flow_error_naming_the_place(flow):
    menu = flow.nodes["main_menu"]
    broken = replace(flow, nodes={**flow.nodes, "main_menu": replace(menu, exits=menu.keys)})

    with pytest.raises(FlowError, match=rf"main\.yaml:{menu.line}: node 'main_menu' has no way out here"):
        step(broken, CallState(node="main_menu", retries=menu.retries), Timeout())

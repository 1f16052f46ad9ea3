"""Every path of the shipped flow, as key scripts, in Danish and in English (chosen in the language menu)."""

from __future__ import annotations

import pytest

from ivr_flows.outcome import Action

N1 = "+4567123456"

# (name, script after the language choice, caller, adapter trace, last prompt heard)
PATHS = [
    ("acute, answered", "1 =answered", {}, ["connect acute", "hangup"], "goodbye.after_call"),
    ("acute, nobody answers: callback first in the queue", "1 =no_answer =registered", {},
     ["connect acute", "callback acute asap", "hangup"], "callback.done.acute"),
    ("acute, callback cannot be booked: voicemail", "1 =no_answer =failed =recorded", {},
     ["connect acute", "callback acute asap", "voicemail 180", "hangup"], "system.recording_saved"),
    ("question, answered", "2 =answered", {}, ["connect question", "hangup"], "goodbye.after_call"),
    ("question, nobody free: silence picks the earliest humane time", "2 =no_answer . . =registered", {},
     ["connect question", "callback hotline question asap", "hangup"], "callback.done"),
    ("question, nobody free: the caller picks this evening", "2 =no_answer 2 =registered", {},
     ["connect question", "callback caller question this_evening", "hangup"], "callback.done"),
    ("question, nobody free: the caller picks tomorrow morning", "2 =no_answer 9 3 =registered", {},
     ["connect question", "callback caller question tomorrow_morning", "hangup"], "callback.done"),
    ("callback as soon as possible", "3 1 =registered", {}, ["callback caller question asap", "hangup"],
     "callback.done"),
    ("callback this evening", "3 2 =registered", {}, ["callback caller question this_evening", "hangup"],
     "callback.done"),
    ("callback tomorrow morning", "3 3 =registered", {}, ["callback caller question tomorrow_morning", "hangup"],
     "callback.done"),
    ("callback tomorrow daytime", "3 4 =registered", {}, ["callback caller question tomorrow_daytime", "hangup"],
     "callback.done"),
    ("callback menu: hear again, back, then a callback", "3 9 * 3 1 =registered", {},
     ["callback caller question asap", "hangup"], "callback.done"),
    ("info: offers, then silence twice says goodbye", "4 1 =sent . .", {}, ["sms_info offers", "hangup"], "goodbye.info"),
    ("info: handbook, then network, then a wrong key and silence", "4 2 =sent 1 3 =sent 5 .", {},
     ["sms_info handbook", "sms_info network", "hangup"], "goodbye.info"),
    ("info: mentor, then an advisor", "4 4 =sent 2 =answered", {},
     ["sms_info mentor", "connect question", "hangup"], "goodbye.after_call"),
    ("info cannot be sent: an advisor instead", "4 1 =failed =answered", {},
     ["sms_info offers", "connect question", "hangup"], "goodbye.after_call"),
    ("menu heard again", "9 9 2 =answered", {}, ["connect question", "hangup"], "goodbye.after_call"),
    ("silence in the main menu: put through as a question", ". . . =answered", {},
     ["connect question", "hangup"], "goodbye.after_call"),
    ("wrong keys in the main menu: put through as a question", "5 7 8 =no_answer . . =registered", {},
     ["connect question", "callback hotline question asap", "hangup"], "callback.done"),
    ("a wrong key, then the right one", "5 1 =answered", {}, ["connect acute", "hangup"], "goodbye.after_call"),
    ("withheld: callback after keying in the number", "3 67123456 1 =ok 2 =registered", {"withheld": True},
     [f"validate_number {N1}", f"callback {N1} caller question this_evening", "hangup"], "callback.done"),
    ("withheld: caller corrects a typo", "3 67123465 2 67123456 1 =ok 1 =registered", {"withheld": True},
     [f"validate_number {N1}", f"callback {N1} caller question asap", "hangup"], "callback.done"),
    ("withheld: too few digits, then right", "3 6712 67123456 1 =ok 1 =registered", {"withheld": True},
     [f"validate_number {N1}", f"callback {N1} caller question asap", "hangup"], "callback.done"),
    ("withheld: number refused three times: voicemail",
     "3 67123456 1 =refused 68123456 1 =refused 67000000 1 =refused =recorded", {"withheld": True},
     [f"validate_number {N1}", "validate_number +4568123456", "validate_number +4567000000", "voicemail 180",
      "hangup"], "voicemail.saved_withheld"),
    ("withheld: gives up at number entry and leaves a message: no call promised", "3 . . . =recorded",
     {"withheld": True}, ["voicemail 180", "hangup"], "voicemail.saved_withheld"),
    ("withheld: silent at number entry, then voicemail stays silent", "3 . . . =empty", {"withheld": True},
     ["voicemail 180", "hangup"], "goodbye.call_again"),
    ("withheld: acute, nobody answers, number keyed in", "1 =no_answer 67123456 1 =ok =registered",
     {"withheld": True},
     ["connect acute", f"validate_number {N1}", f"callback {N1} acute asap", "hangup"], "callback.done.acute"),
    ("withheld: information by SMS", "4 67123456 1 =ok 2 =sent . .", {"withheld": True},
     [f"validate_number {N1}", f"sms_info {N1} handbook", "hangup"], "goodbye.info"),
    ("closed: callback at a chosen time", "1 1 2 =registered", {"has_on_call": False},
     ["callback caller question this_evening", "hangup"], "callback.done"),
    ("closed: voicemail", "2 2 =recorded", {"has_on_call": False}, ["voicemail 180", "hangup"],
     "system.recording_saved"),
    ("closed: silence leads to voicemail", "2 . . . =recorded", {"has_on_call": False},
     ["voicemail 180", "hangup"], "system.recording_saved"),
    ("closed: empty voicemail, we call back", "2 2 =empty =registered", {"has_on_call": False},
     ["voicemail 180", "callback hotline question asap", "hangup"], "callback.done"),
    ("closed: empty voicemail, callback fails", "2 2 =empty =failed", {"has_on_call": False},
     ["voicemail 180", "callback hotline question asap", "hangup"], "goodbye.call_again"),
]  # fmt: skip


@pytest.mark.parametrize(("language", "key"), [("da", "1"), ("en", "2")])
@pytest.mark.parametrize(
    ("script", "caller", "trace", "last"), [p[1:] for p in PATHS], ids=[p[0] for p in PATHS]
)
def test_path(call, language, key, script, caller, trace, last):
    heard = call(f"start {key} {script}", **caller)

    assert heard.trace == trace
    assert heard.said[-1] == last
    assert {a.params["language"] for a in heard.actions} == {language}
    assert {item.language for item in heard.spoken[-3:]} == {language}


def test_a_new_caller_hears_the_service_the_emergency_number_and_every_language(call):
    heard = call("start")

    assert heard.said[:2] == ["system.greeting", "system.emergency"]
    choices = [(item.prompt, item.language) for item in heard.spoken[2:]]
    assert choices == [("language.choose", lang) for lang in ("da", "en", "ar", "tr", "uk", "pl")]


def test_after_choosing_english_the_greeting_is_repeated_in_english(call):
    heard = call("start 2")

    assert [(i.prompt, i.language) for i in heard.outcomes[-1].speech] == [
        ("system.greeting", "en"),
        ("system.emergency", "en"),
        ("menu.main", "en"),
    ]


def test_a_returning_caller_skips_the_language_menu(call):
    heard = call("start 2 =answered", returning_caller=True, language="ar")

    assert "language.choose" not in heard.said
    assert heard.outcomes[0].speech[0].language == "ar"
    assert heard.trace == ["connect question", "hangup"]
    assert heard.actions[0].params["language"] == "ar"


def test_a_returning_caller_can_change_language_with_0(call):
    heard = call("start 0 4 1 =answered", returning_caller=True, language="ar")

    assert heard.actions[0].params["language"] == "tr"
    assert heard.said.count("language.choose") == 6


def test_silence_in_the_language_menu_puts_the_caller_through_in_danish(call):
    heard = call("start . . .")

    assert heard.said.count("language.choose") == 18  # the menu three times, six languages each
    assert heard.trace == ["connect question"]
    assert heard.actions[0].params["language"] == "da"


def test_the_closed_message_comes_before_the_offer(call):
    heard = call("start 1 1", has_on_call=False)

    assert heard.said[-2:] == ["closed.message", "closed.menu"]
    assert heard.trace == []


def test_a_withheld_number_is_read_back_before_it_is_confirmed(call):
    heard = call("start 1 3 67123456", withheld=True)

    readback = heard.outcomes[-1].speech[0]
    assert (readback.prompt, readback.values) == ("number.readback", {"digits": "6 7 1 2 3 4 5 6"})
    assert heard.said[-1] == "number.confirm"


def test_a_caller_with_a_number_never_gets_the_number_in_params(call):
    heard = call("start 1 3 2 =registered")

    assert all("number" not in a.params for a in heard.actions)


def test_somali_is_played_from_recordings_and_the_number_digit_by_digit(call, flow_with_somali):
    heard = call("start 7 3 67123456", on=flow_with_somali, withheld=True)

    last = heard.outcomes[-1].speech
    assert [item.audio for item in last] == [
        "so/number.readback.mp3",
        *(f"so/digit.{d}.mp3" for d in "67123456"),
        "so/number.confirm.mp3",
    ]
    assert {type(i).__name__ for i in heard.outcomes[-2].speech} == {"Play"}


def test_the_voicemail_action_says_how_long_a_message_may_be(call):
    heard = call("start 1 2 2", has_on_call=False)

    assert heard.actions == [heard.outcomes[-1].next]
    assert isinstance(heard.actions[0], Action)
    assert heard.actions[0].params == {"max_length_s": "180", "language": "da"}


@pytest.mark.parametrize(
    ("script", "options", "chosen"),
    [
        ("start 2", {}, [None, "en"]),  # the language menu's key 2: English, reported once
        (
            "start 1 1",
            {},
            [None, "da", None],
        ),  # Danish chosen; the next key is the main menu's, not a language
        ("start . . .", {}, [None, None, None, None]),  # silence: Danish by default, but nobody chose it
        ("start 0 4", {"returning_caller": True, "language": "ar"}, [None, None, "tr"]),  # changed with 0
    ],
)
def test_the_engine_reports_the_language_a_caller_chose(call, script, options, chosen):
    """The adapter remembers a chosen language from the engine's report, without walking the flow itself."""
    heard = call(script, **options)

    assert [outcome.chosen_language for outcome in heard.outcomes] == chosen

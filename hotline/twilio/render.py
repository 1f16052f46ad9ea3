"""Everything callers and advisors hear, as TwiML: the flow engine's Outcome, and single prompts (`speak`) for the
fallback answer, the dialing whispers and the callback calls — all with one table of voices, the `Languages` built
from config.yaml (`hotline.config.voices`). No other module writes a `<Say>` or `<Play>`."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta

from twilio.twiml.voice_response import Gather as TwimlGather
from twilio.twiml.voice_response import VoiceResponse

from hotline.config.prompt_values import window_values
from hotline.config.settings import Settings, join_url
from ivr_flows.call_state import CallState
from ivr_flows.languages import Language, Languages
from ivr_flows.outcome import Gather, Hangup, Outcome, Play, Say
from ivr_flows.prompts import PromptCatalogue
from routing.oncall import coverage
from routing.roster import Roster
from sms.timephrase import window_phrase


def _hours(value: object) -> str:
    text = f"{value:%H}" if hasattr(value, "hour") else str(value)
    return text.lstrip("0") or "0"


# Values that change with the moment or the call; an answer naming none of them is the same for every call in
# the same state of the flow.
CALL_VALUES = frozenset({"next_open", "callback_by"})

RosterSource = Roster | None | Callable[[], Roster | None]
DueSource = tuple[datetime, datetime] | None | Callable[[], tuple[datetime, datetime] | None]


def placeholder_values(
    settings: Settings,
    prompts: PromptCatalogue,
    roster: RosterSource,
    now: datetime,
    language: str,
    callback_due: DueSource = None,
    *,
    names: Collection[str] | None = None,
) -> dict[str, str]:
    """The values the flow's prompts name (hotline.config.prompt_values lists them): the service, the next time
    someone is on call, and each callback window's hours as `<key>_start`/`<key>_end`. `callback_due` is the
    registered callback's (window start, due time), spoken as "i dag inden kl. 18.30".

    With `names`, only those values are made; the roster and the callback may then be given as functions,
    called only when a value needs them (a greeting names neither)."""

    def wanted(name: str) -> bool:
        return names is None or name in names

    values = {"service_name": settings.file.service.name}
    if wanted("next_open"):
        values["next_open"] = next_open_phrase(
            roster() if callable(roster) else roster, now, language, prompts
        )
    if wanted("callback_by"):
        due = callback_due() if callable(callback_due) else callback_due
        if due is not None:
            start, end = due
            values["callback_by"] = window_phrase(max(start, now), max(end, now), now, language)
    for name, hours in window_values(settings.file.callbacks.windows).items():
        if wanted(name):
            values[name] = _hours(hours)
    return values


def placeholders_in(outcome: Outcome, prompts: PromptCatalogue) -> frozenset[str]:
    """The placeholder values the outcome's prompts name, besides the values the engine gives them itself."""
    names: set[str] = set()
    for item in outcome.speech:
        if isinstance(item, Say):
            names.update(prompts.placeholders(item.language, item.prompt).difference(item.values))
    return frozenset(names)


def next_open_phrase(roster: Roster | None, now: datetime, language: str, prompts: PromptCatalogue) -> str:
    """When someone is on call next, in words ("i morgen kl. 8"), looking a week ahead; if nobody is rostered
    that week, an honest "as soon as an advisor is on duty" instead of a time."""
    if roster is not None:
        for interval in coverage(roster, now, now + timedelta(days=7)):
            if interval.entries:
                start = max(interval.start, now)
                return window_phrase(start, start, now, language)
    return prompts.text(language, "connect.next_open_unknown")


def spoken_in(languages: Languages, code: str) -> Language:
    """The language `code` is spoken in: itself when callers are offered it, else the default language."""
    language = languages.get(code)
    if language is None or not language.enabled:
        language = languages.get(languages.default)
    assert language is not None  # Languages.create insists on an enabled default
    return language


def audio_url(base: str, audio: str) -> str:
    """Where Twilio fetches a recording (`so/menu.main.mp3`), served by hotline.twilio.audio."""
    return join_url(base, f"/audio/{audio}")


def say(target: VoiceResponse | TwimlGather, languages: Languages, code: str, text: str) -> None:
    """`<Say>` of `text` (written in `code`) in that language's voice; the default language's voice when `code` is
    not offered or is spoken from recordings (a text cannot be played)."""
    language = spoken_in(languages, code)
    if language.mode != "tts":
        language = spoken_in(languages, languages.default)
    target.say(text, voice=language.voice, language=language.locale)


def speak(
    target: VoiceResponse | TwimlGather,
    prompts: PromptCatalogue,
    languages: Languages,
    code: str,
    key: str,
    /,
    *,
    base: str = "",
    **values: object,
) -> None:
    """Add the prompt `key` in language `code` to `target`: `<Say>` in its voice, or `<Play>` of its recording
    (a recording says no values). A language callers are not offered is spoken in the default language."""
    language = spoken_in(languages, code)
    if language.mode == "audio":
        target.play(audio_url(base, language.audio_path(key)))
    else:
        say(target, languages, language.code, prompts.text(language.code, key, **values))


def state_url(base: str, state: CallState, **extra: str) -> str:
    return join_url(base, "/twilio/voice/step", **state.to_params(), **extra)


def render(
    outcome: Outcome,
    *,
    prompts: PromptCatalogue,
    languages: Languages,
    values: Mapping[str, str],
    base: str,
) -> VoiceResponse:
    """The Outcome's speech in order, then its Gather or Hangup (actions are carried out before rendering)."""
    response = VoiceResponse()
    target: VoiceResponse | TwimlGather = response
    if isinstance(outcome.next, Gather):
        target = TwimlGather(
            num_digits=outcome.next.num_digits,
            timeout=outcome.next.timeout_s,
            method="POST",
            action=state_url(base, outcome.next.state),
            action_on_empty_result=True,
        )
    for item in outcome.speech:
        if isinstance(item, Play):
            target.play(audio_url(base, item.audio))
            continue
        assert isinstance(item, Say)
        say(
            target,
            languages,
            item.language,
            prompts.text(item.language, item.prompt, **{**values, **item.values}),
        )
    if isinstance(outcome.next, Gather):
        response.append(target)
        # Reached only if Twilio ever skips the action: come back to the same step as a silence.
        response.redirect(state_url(base, outcome.next.state), method="POST")
    elif isinstance(outcome.next, Hangup):
        response.hangup()
    return response

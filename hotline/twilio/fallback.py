"""The answer that needs no database: used for Twilio's Fallback URL and whenever a voice webhook fails.

Danish and English, the 112 notice, then a `<Dial>` to the configured fallback number; if none is set (or nobody
answers there), a voicemail whose reference is spooled to a local file (see `hotline.services.spool`).
"""

from __future__ import annotations

import logging

from twilio.twiml.voice_response import VoiceResponse

from hotline.config.settings import Settings, join_url
from hotline.twilio.render import speak
from ivr_flows.languages import Languages
from ivr_flows.prompts import PromptCatalogue
from routing.guard import check_destination

FALLBACK_LANGUAGES = ("da", "en")
MAX_VOICEMAIL_SECONDS = 180

log = logging.getLogger(__name__)


def _intro(
    response: VoiceResponse, settings: Settings, prompts: PromptCatalogue, languages: Languages, base: str
) -> None:
    name = settings.file.service.name
    for language in FALLBACK_LANGUAGES:
        speak(response, prompts, languages, language, "system.fallback", base=base, service_name=name)
        speak(response, prompts, languages, language, "system.emergency", base=base)


def _saved(withheld: bool) -> str:
    """What a caller hears once the message is kept: a call back is promised only to a caller we can call."""
    return "voicemail.saved_withheld" if withheld else "system.recording_saved"


def record_voicemail(
    response: VoiceResponse, prompts: PromptCatalogue, languages: Languages, base: str, withheld: bool = False
) -> None:
    """Ask for a message and record it; the recording's reference is posted to the spooling endpoint. A caller
    whose number is withheld is told before the tone that we cannot call them back (the message becomes a task
    staff listen to, without a number to dial)."""
    intro = "voicemail.intro_withheld" if withheld else "system.fallback_record"
    for language in FALLBACK_LANGUAGES:
        speak(response, prompts, languages, language, intro, base=base)
    response.record(
        action=join_url(base, "/twilio/voice/fallback/recording"),
        method="POST",
        max_length=MAX_VOICEMAIL_SECONDS,
        finish_on_key="#",
        play_beep=True,
        timeout=10,
    )
    # Reached only if the caller says nothing: still a goodbye, never silence.
    for language in FALLBACK_LANGUAGES:
        speak(response, prompts, languages, language, _saved(withheld), base=base)


def fallback_response(
    settings: Settings, prompts: PromptCatalogue, languages: Languages, base: str = "", withheld: bool = False
) -> VoiceResponse:
    """The full fallback answer. `base` is the public URL prefix for action URLs ('' keeps them relative);
    `withheld`: the caller's number is hidden, so no call back is promised."""
    response = VoiceResponse()
    _intro(response, settings, prompts, languages, base)
    number = settings.file.service.fallback_number
    if number and not check_destination(number, settings.file.destinations.policy()).allowed:
        # Refused at start-up too (hotline check); checked here as well, since this answer needs nothing else.
        log.error("service.fallback_number refused by the toll-fraud guard; taking a voicemail instead")
        number = None
    if number:
        speak(response, prompts, languages, "da", "system.fallback_connect", base=base)
        response.dial(
            number, action=join_url(base, "/twilio/voice/fallback/after-dial"), method="POST", timeout=30
        )
    else:
        record_voicemail(response, prompts, languages, base, withheld)
    return response


def after_dial_response(
    prompts: PromptCatalogue, languages: Languages, dial_status: str, base: str = "", withheld: bool = False
) -> VoiceResponse:
    """After the fallback `<Dial>`: hang up after a real conversation, otherwise take a voicemail."""
    response = VoiceResponse()
    if dial_status == "completed":
        response.hangup()
    else:
        record_voicemail(response, prompts, languages, base, withheld)
    return response


def recording_saved_response(
    prompts: PromptCatalogue, languages: Languages, base: str = "", withheld: bool = False
) -> VoiceResponse:
    response = VoiceResponse()
    for language in FALLBACK_LANGUAGES:
        speak(response, prompts, languages, language, _saved(withheld), base=base)
    response.hangup()
    return response

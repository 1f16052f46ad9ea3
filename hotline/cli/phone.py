"""`hotline call`: a phone in the terminal that calls a running hotline exactly as Twilio would.

The call logic is `hotline.devtools.phone.Phone`; this module gives it the terminal's parts: the keyboard, HTTP over urllib,
and a voice through espeak-ng.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlencode

import click

from hotline.cli.common import fail, settings_or_exit, unreachable
from hotline.config.settings import Settings
from hotline.devtools.phone import (
    ADVISOR_BEHAVIOURS,
    DEFAULT_CALLER,
    DEMO_ACCOUNT_SID,
    KEYS,
    WITHHELD,
    CallSetup,
    HttpAnswer,
    Keypad,
    Phone,
    PhoneError,
    Poster,
    ScriptedKeypad,
    Speaker,
)
from hotline.runtime import DEMO_SECRET_FILE
from routing.numbers import normalize_number
from routing.wording.catalogue import aside, both


class TerminalKeypad:
    """Keys typed in the terminal; an empty line is silence, Ctrl-D or Ctrl-C hangs up."""

    echoes = False

    def __init__(
        self, read: Callable[[str], str] = input, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.read = read
        self.clock = clock

    def _line(self, prompt: str) -> str | None:
        try:
            return self.read(prompt).strip().replace(" ", "")
        except (EOFError, KeyboardInterrupt):
            return None

    def press(self, gather: ET.Element) -> str | None:
        limit = gather.get("numDigits")
        size = both("phone.keys_up_to", limit=limit) if limit else both("phone.keys_end_with_hash")
        prompt = f"  #  {both('phone.keys')} [{size}, Enter = {both('phone.silence')}]: "
        while True:
            line = self._line(prompt)
            if line is None or all(ch in KEYS for ch in line):
                return line
            click.echo(f"     {both('phone.keys_only')}")

    def _timed(self, prompt: str) -> int | None:
        started = self.clock()
        if self._line(prompt) is None:
            return None
        return max(1, round(self.clock() - started))

    def record(self, max_length: int) -> int | None:
        return self._timed(f"     {both('phone.speak_message')} ")

    def talk(self) -> int | None:
        return self._timed(f"     {both('phone.talk')} ")


def http_poster(timeout: float = 30) -> Poster:
    """A Poster over real HTTP (urllib), as Twilio's servers would call the hotline."""

    def post(url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> HttpAnswer:
        data = urlencode(params).encode("utf-8")
        request = urllib.request.Request(url, data=data, headers=dict(headers), method="POST")
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return HttpAnswer(response.status, response.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as error:
            return HttpAnswer(error.code, error.read().decode("utf-8", "replace"))
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise PhoneError(unreachable(url, reason, both("phone.start_hint"))) from error

    return post


def espeak_speaker(out: Callable[[str], None] = print) -> Speaker | None:
    """A Speaker that says text aloud through espeak-ng, or None when espeak-ng is not installed."""
    program = shutil.which("espeak-ng")
    if program is None:
        return None
    failed: set[str] = set()

    def speak(text: str, language: str | None) -> None:
        voice = (language or "da").split("-")[0].lower()
        voice = {"arb": "ar"}.get(voice, voice)
        done = subprocess.run([program, "-v", voice, text], check=False, capture_output=True)
        if done.returncode != 0 and voice not in failed:
            failed.add(voice)
            out(f"     {aside('phone.espeak_cannot_speak', voice=voice)}: {done.stderr[:200]!r}")

    return speak


def _keys(_ctx: click.Context, _param: click.Parameter, value: str | None) -> list[str] | None:
    if value is None:
        return None
    items = [item.strip().replace(" ", "") for item in value.split(",")]
    for item in items:
        if any(ch not in KEYS for ch in item):
            raise click.BadParameter(f'{item!r}: keys are 0-9, * and #, one item per menu, e.g. "2,1"')
    return items


def _advisors(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[str, ...]:
    items = tuple(item.strip() for item in value.split(",") if item.strip())
    for item in items:
        if item not in ADVISOR_BEHAVIOURS:
            raise click.BadParameter(
                f'{item!r}: choose from {", ".join(ADVISOR_BEHAVIOURS)}, e.g. "ring,answer"'
            )
    return items or ("answer",)


def _secret(settings: Settings, given: str | None) -> str:
    """--secret; else TWILIO_AUTH_TOKEN (live mode); else the demo's secret in the instance folder."""
    if given:
        return given
    if settings.twilio_auth_token:
        return settings.twilio_auth_token
    path: Path = settings.instance_path / DEMO_SECRET_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        fail(
            [
                f"no signing secret: {path} does not exist. Start the demo first (`make run`) in the folder "
                "you call from, or pass --secret, or set TWILIO_AUTH_TOKEN to the hotline's token"
            ]
        )
    except OSError as error:
        fail([f"cannot read the signing secret {path}: {error.strerror}; check its permissions"])


@click.command("call")
@click.option(
    "--url",
    default=None,
    help="The running hotline (default: HOTLINE_PUBLIC_URL, else http://127.0.0.1:<HOTLINE_PORT or 8000>).",
)
@click.option("--from", "from_", default=DEFAULT_CALLER, show_default=True, help="The caller's number.")
@click.option("--withheld", is_flag=True, help="Call with a withheld number (From=anonymous).")
@click.option(
    "--keys",
    callback=_keys,
    default=None,
    help='Keys for successive menus, e.g. "2,1" ("" = silence). Default: type them.',
)
@click.option(
    "--advisor",
    "advisors",
    callback=_advisors,
    default="answer",
    show_default=True,
    help="How advisors react when the hotline rings them: answer (and press 1), ring (no answer), decline "
    "(busy), voicemail (answers, presses nothing). A comma list is one per ring, the last repeats: ring,answer",
)
@click.option("--speak", is_flag=True, help="Also say what the caller hears aloud (espeak-ng).")
@click.option(
    "--secret",
    default=None,
    help="Signing secret (default: TWILIO_AUTH_TOKEN, else instance/demo_signing_secret).",
)
@click.option(
    "--max-requests",
    type=click.IntRange(1, 1000),
    default=60,
    show_default=True,
    help="Give up after this many TwiML requests.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show every request and its HTTP status.")
def call(
    url: str | None,
    from_: str,
    withheld: bool,
    keys: list[str] | None,
    advisors: tuple[str, ...],
    speak: bool,
    secret: str | None,
    max_requests: int,
    verbose: bool,
) -> None:
    """Call the hotline from this terminal, as Twilio would: hear the menus, press keys, reach an advisor."""
    settings = settings_or_exit()
    caller = WITHHELD if withheld else normalize_number(from_)
    if caller is None:
        raise click.BadParameter(
            f"{from_!r} is not a phone number; use E.164, e.g. +4567123456", param_hint="--from"
        )
    base = (url or settings.base_url).rstrip("/")
    speaker = None
    if speak:
        speaker = espeak_speaker(click.echo)
        if speaker is None:
            click.echo(f"{aside('phone.espeak_missing')}: apt install espeak-ng")
    keypad: Keypad = ScriptedKeypad(keys) if keys is not None else TerminalKeypad()
    setup = CallSetup(
        base_url=base,
        hotline_number=settings.file.service.hotline_number,
        caller=caller,
        secret=_secret(settings, secret),
        account_sid=settings.twilio_account_sid or DEMO_ACCOUNT_SID,
        advisors=advisors,
        max_requests=max_requests,
    )
    phone = Phone(http_poster(), keypad, setup, out=click.echo, speaker=speaker, verbose=verbose)
    try:
        result = phone.call()
    except PhoneError as error:
        click.echo(f"hotline call: {error}", err=True)
        if error.status == 403:
            click.echo(
                "hotline call: 403 means the signature was refused: call from the folder where the demo runs "
                "(its instance/demo_signing_secret), or pass --secret; with HOTLINE_PUBLIC_URL set, --url must "
                "be that URL",
                err=True,
            )
        sys.exit(1)
    if result.ended_by == "limit":
        sys.exit(1)

"""What tests share besides fixtures: the reserve-series numbers, the test rosters, the clock, requests signed the
way Twilio signs them, a scripted caller, and builders for apps and `hotline` commands.

Fixtures live in the conftest.py files; test modules import helpers from here, never from each other.
Phone numbers come only from the Danish reserve series, which the numbering plan keeps unassigned:
+45 67 xx xx xx for relatives and +45 68 xx xx xx for advisors and the hotline itself (see docs/testing.md).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, select
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from hotline.app import create_app
from hotline.cli.main import main
from hotline.db.models import Call, CallbackAttempt, Message, OutboxText, Recording
from hotline.devtools.phone import CallResult, CallSetup, HttpAnswer, Phone, Poster, ScriptedKeypad
from hotline.runtime import Runtime
from hotline.services import callback_queue, outbox, relatives, rosters, staff_accounts
from hotline.transport.base import Transport
from routing.callbacks import Priority
from routing.wallclock import COPENHAGEN

if TYPE_CHECKING:
    pass

REPO = Path(__file__).resolve().parent.parent
BACKEND = os.environ.get("HOTLINE_TEST_DATABASE", "sqlite")
RELATIVE = "+4567123456"
HOTLINE = "+4568000000"
CPH = COPENHAGEN
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# --- rosters ------------------------------------------------------------------------------------------------

# Everyone on call around the clock (07:00-07:00 is 24 hours), so call walks do not depend on the time of day:
# anna and dalia (primary) first, then bo (backup), then carl (manager, for acute calls only).
ALWAYS_ON_CALL = """
version: 1
advisors:
  - {id: anna, name: Anna Prøve, phone: "+45 68 20 00 01", languages: [da, en]}
  - {id: bo, name: Bo Prøve, phone: "+45 68 20 00 02", languages: [da]}
  - {id: dalia, name: Dalia Prøve, phone: "+45 68 20 00 03", languages: [da, ar]}
  - {id: carl, name: Carl Prøve, phone: "+45 68 20 00 04", languages: [da]}
shifts:
  primary:
    - {advisor: anna, days: daily, start: "07:00", end: "07:00"}
    - {advisor: dalia, days: daily, start: "07:00", end: "07:00"}
  backup:
    - {advisor: bo, days: daily, start: "07:00", end: "07:00"}
  manager:
    - {advisor: carl, days: daily, start: "07:00", end: "07:00"}
"""
NUMBERS = {"anna": "+4568200001", "bo": "+4568200002", "dalia": "+4568200003", "carl": "+4568200004"}

# Daily shifts around the clock, except two nights when the night advisor is off sick: the nights into both
# daylight-saving Sundays. Mads is the manager, around the clock.
DAILY_SHIFTS = """
version: 1
advisors:
  - {id: anna, name: Anna Prøve, phone: "+45 68 30 00 01", languages: [da, en]}
  - {id: dalia, name: Dalia Prøve, phone: "+45 68 30 00 02", languages: [da, ar]}
  - {id: bo, name: Bo Prøve, phone: "+45 68 30 00 03", languages: [da]}
  - {id: mads, name: Mads Prøve, phone: "+45 68 30 00 09", languages: [da]}
shifts:
  primary:
    - {advisor: anna, days: daily, start: "07:00", end: "15:00"}
    - {advisor: dalia, days: daily, start: "15:00", end: "23:00"}
    - {advisor: bo, days: daily, start: "23:00", end: "07:00"}
  manager:
    - {advisor: mads, days: daily, start: "07:00", end: "07:00"}
overrides:
  - {off: bo, from: "2026-03-28 23:00", to: "2026-03-29 07:00", reason: sick}
  - {off: bo, from: "2026-10-24 23:00", to: "2026-10-25 07:00", reason: sick}
"""
PHONES = {"anna": "+4568300001", "dalia": "+4568300002", "bo": "+4568300003", "mads": "+4568300009"}


def roster_of(advisors: int) -> str:
    """A roster of `advisors` advisors (a00, a01, ...), each with a primary shift around the clock every day and a
    backup shift at weekends: for counting work that must not grow with the advisors or their shifts."""
    lines = ["version: 1", "advisors:"]
    lines += [
        f'  - {{id: a{i:02d}, name: Rådgiver {i}, phone: "+45 68 21 {i // 100:02d} {i % 100:02d}", languages: [da]}}'
        for i in range(advisors)
    ]
    lines += ["shifts:", "  primary:"]
    lines += [
        f'    - {{advisor: a{i:02d}, days: daily, start: "07:00", end: "07:00"}}' for i in range(advisors)
    ]
    lines += ["  backup:"]
    lines += [
        f'    - {{advisor: a{i:02d}, days: [sat, sun], start: "08:00", end: "20:00"}}'
        for i in range(advisors)
    ]
    return "\n".join(lines) + "\n"


def import_roster(app: Flask, text: str = DAILY_SHIFTS) -> None:
    with app.extensions["hotline"].sessions.begin() as session:
        rosters.import_roster(session, text, source_name="test.yaml", actor="test")


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements `engine` issues inside the block."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


# --- the clock ----------------------------------------------------------------------------------------------


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A Copenhagen wall-clock time as an aware UTC instant (the first one, in the repeated October hour)."""
    return datetime.combine(day, time(hour, minute), tzinfo=CPH).astimezone(UTC)


# The instant the fake Twilio dates texts at (10:00 in Copenhagen), so its dates follow the tests' clock.
TWILIO_NOW = utc(2026, 6, 10, 8, 0)
TWILIO_ACCOUNT = "AC" + "b" * 32

# --- requests as Twilio makes them --------------------------------------------------------------------------


def sign(secret: str, url: str, params: Mapping[str, str]) -> str:
    """X-Twilio-Signature for a POST to `url` with form `params`, computed as Twilio does."""
    return str(RequestValidator(secret).compute_signature(url, dict(params)))


class TwilioSigner:
    """Posts form requests to the app signed with the app's secret, as Twilio would."""

    def __init__(self, client: FlaskClient, secret: str, base: str = "http://localhost") -> None:
        self.client = client
        self.secret = secret
        self.base = base

    def post(self, path: str, params: Mapping[str, str], **kwargs: Any) -> TestResponse:
        headers = {"X-Twilio-Signature": sign(self.secret, self.base + path, params)}
        headers.update(kwargs.pop("headers", {}))
        return self.client.post(path, data=dict(params), headers=headers, **kwargs)


def signer(app: Flask) -> TwilioSigner:
    """A TwilioSigner for `app` with the app's own secret."""
    return TwilioSigner(app.test_client(), app.extensions["hotline"].signing_secret)


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def call_params(call_sid: str | None = None, from_: str = RELATIVE, **extra: str) -> dict[str, str]:
    params = {
        "CallSid": call_sid or new_sid("CA"),
        "AccountSid": "AC" + "0" * 32,
        "From": from_,
        "To": HOTLINE,
        "CallStatus": "ringing",
        "Direction": "inbound",
    }
    params.update(extra)
    return params


# --- a caller with a scripted keypad ------------------------------------------------------------------------


def flask_poster(client: FlaskClient) -> Poster:
    def post(url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> HttpAnswer:
        response = client.post(url, data=dict(params), headers=dict(headers))
        return HttpAnswer(response.status_code, response.get_data(as_text=True))

    return post


def dial_in(
    app: Flask,
    keys: list[str],
    advisors: tuple[str, ...] = ("answer",),
    caller: str = RELATIVE,
    secret: str | None = None,
) -> tuple[Phone, CallResult, str]:
    """Call the app from `caller` with scripted keys; returns the phone, its result and what it printed."""
    lines: list[str] = []
    setup = CallSetup(
        base_url="http://localhost",
        hotline_number=HOTLINE,
        caller=caller,
        secret=secret or app.extensions["hotline"].signing_secret,
        advisors=advisors,
    )
    phone = Phone(flask_poster(app.test_client()), ScriptedKeypad(keys), setup, out=lines.append)
    return phone, phone.call(), "\n".join(lines)


# --- apps and commands --------------------------------------------------------------------------------------


class AppFactory:
    """create_app with extra config (merged over the test settings) and optionally another transport."""

    def __init__(self, settings_mapping: dict[str, Any]) -> None:
        self.settings_mapping = settings_mapping
        self.built: list[Flask] = []

    def __call__(
        self, config: dict[str, Any] | None = None, transport: Transport | None = None, **env: str
    ) -> Flask:
        base = self.settings_mapping
        application = create_app(
            {**base, **env, "config": {**base["config"], **(config or {})}}, transport=transport
        )
        self.built.append(application)
        return application

    def close(self) -> None:
        for application in self.built:
            application.extensions["hotline"].dispose()


class HotlineRunner(CliRunner):
    """Runs `hotline ARGS...` in-process against the test's database and instance folder, as Flask's
    `app.test_cli_runner()` runs `flask` commands: `runner.invoke(["outbox", "--bodies"])`.

    The environment holds HOTLINE_CONFIG (config.yaml with the test's instance folder) and HOTLINE_DATABASE_URL;
    the developer's own HOTLINE_* and TWILIO_* variables are hidden from the command.
    """

    def __init__(self, settings_mapping: Mapping[str, Any], config_path: Path) -> None:
        config = (
            yaml.load(Path(settings_mapping["config_path"]).read_text(encoding="utf-8"), Loader=_YAML_LOADER)
            or {}  # the committed config.yaml may override nothing
        )
        config["instance_dir"] = settings_mapping["config"]["instance_dir"]
        config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        env: dict[str, str | None] = {k: None for k in os.environ if k.startswith(("HOTLINE_", "TWILIO_"))}
        env.update(
            HOTLINE_CONFIG=str(config_path), HOTLINE_DATABASE_URL=settings_mapping["HOTLINE_DATABASE_URL"]
        )
        super().__init__(env=env)

    def invoke(self, args: Sequence[str] = (), **kwargs: Any) -> Result:  # type: ignore[override]
        """Run `hotline` with `args`; `env=` adds variables for this run, as with click's CliRunner."""
        return super().invoke(main, list(args), **kwargs)


# --- rows the clockwork works on ----------------------------------------------------------------------------


def register_callback(
    runtime: Runtime,
    at: datetime,
    *,
    window: str = "this_evening",
    priority: Priority = Priority.QUESTION,
    number: str = RELATIVE,
    language: str = "ar",
) -> int:
    """Register a callback for `number` as of `at`, as a call or text would; its id."""
    with runtime.sessions.begin() as session:
        relative, _ = relatives.find_or_create(session, number)
        callback = callback_queue.register(
            session,
            relative=relative,
            call_sid=None,
            priority=priority,
            reason=priority.value,
            language=language,
            window_key=window,
            settings=runtime.settings.file.callbacks,
            assigned_advisor_id=None,
            now=at,
            actor="test",
            policy=runtime.policy,
        ).callback
        return callback.id


def texts(runtime: Runtime, purpose: str | None = None) -> list[OutboxText]:
    """The outbox, oldest first; only texts of `purpose` when given."""
    with runtime.sessions() as session:
        query = select(OutboxText).order_by(OutboxText.id)
        if purpose:
            query = query.where(OutboxText.purpose == purpose)
        return list(session.scalars(query))


def seed_personal_data(runtime: Runtime, now: datetime) -> None:
    """Texts, recordings, calls and notes on both sides of their retention periods, as of `now`."""
    with runtime.sessions.begin() as session:
        relative, _ = relatives.find_or_create(session, RELATIVE)
        for days in (100, 10):
            at = now - timedelta(days=days)
            session.add(
                Message(
                    message_sid=f"SM{days:032d}",
                    direction="inbound",
                    from_number=RELATIVE,
                    body=f"hemmelighed {days}",
                    status="received",
                    relative_id=relative.id,
                    created_at=at,
                    updated_at=at,
                )
            )
            outbox.enqueue(
                session,
                capped=True,
                to=RELATIVE,
                purpose="received",
                language="da",
                now=at,
                body=f"svar {days}",
            )
        for days in (40, 10):
            session.add(
                Recording(
                    recording_sid=f"RE{days:032d}",
                    call_sid="CA" + "1" * 32,
                    recording_url=f"https://api.twilio.com/rec/{days}",
                    source="ivr",
                    received_at=now - timedelta(days=days),
                )
            )
    with runtime.sessions.begin() as session:
        for days in (400, 10):
            at = now - timedelta(days=days)
            session.add(
                Call(
                    call_sid=f"CA{days:032d}",
                    direction="inbound",
                    from_number=RELATIVE,
                    to_number=HOTLINE,
                    status="completed",
                    created_at=at,
                    updated_at=at,
                )
            )
    callback_id = register_callback(runtime, now - timedelta(days=400), window="asap")
    with runtime.sessions.begin() as session:
        for days in (400, 10):
            session.add(
                CallbackAttempt(
                    callback_id=callback_id, note=f"note {days}", started_at=now - timedelta(days=days)
                )
            )


# --- the staff console --------------------------------------------------------------------------------------

STAFF_PASSWORD = "en lang sætning som adgangskode"


def add_staff(
    app: Flask,
    username: str,
    *,
    role: str = "advisor",
    advisor_id: str | None = None,
    password: str = STAFF_PASSWORD,
) -> int:
    """A console account (an advisor's belongs to `advisor_id`, default: the username); its id."""
    if role == "advisor" and advisor_id is None:
        advisor_id = username
    with app.extensions["hotline"].sessions.begin() as session:
        account = staff_accounts.create(
            session,
            username=username,
            name="",
            role=staff_accounts.Role(role),
            password=password,
            advisor_id=advisor_id,
        )
        return account.id


def csrf_token(client: FlaskClient, path: str = "/console/login") -> str:
    """The CSRF token of the form on the console page at `path`, as a browser would submit it."""
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token"[^>]* value="([^"]+)"', page)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def console_login(client: FlaskClient, username: str, password: str = STAFF_PASSWORD) -> TestResponse:
    """Sign in through the console's form, as a browser would."""
    return client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(client)},
    )

"""Bad configuration: every problem on its own line, naming where, the key, the value and the fix."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from hotline.config.sections import FileSettings, SmsInfoSettings
from hotline.config.settings import DEFAULTS_FILE, ConfigError, load_settings

REPO = Path(__file__).resolve().parents[2]

BROKEN_FILES = [
    (
        "escalation:\n  step_timeout_seconds: -5\n",
        "{f}:2: escalation.step_timeout_seconds = -5: must be at least 5; set a larger number",
    ),
    (
        "escalaton:\n  step_timeout_seconds: 20\n",
        "{f}:1: escalaton: is not a known setting; did you mean 'escalation'? Remove or rename it",
    ),
    (
        "escalation:\n  step_timout_seconds: 20\n",
        "{f}:2: escalation.step_timout_seconds = 20: is not a known setting; did you mean 'step_timeout_seconds'? "
        "Remove or rename it",
    ),
    (
        "escalation:\n  step_timeout_seconds: twenty\n",
        "{f}:2: escalation.step_timeout_seconds = 'twenty': must be a whole number, e.g. 20",
    ),
    (
        "service:\n  name: Pårørendelinjen\n  timezone: Europe/Copenhagen\n",
        "{f}:3: service.timezone = 'Europe/Copenhagen': is no longer a setting: the hotline always plans in "
        "Europe/Copenhagen (Danish municipalities, Danish public holidays in the roster); remove the line",
    ),
    (
        "service:\n  hotline_number: 'ring os'\n",
        "{f}:2: service.hotline_number = 'ring os': is not a phone number; write it in E.164 form, e.g. '+4568000000'",
    ),
    (
        "languages:\n  default: de\n",
        "{f}:1: languages: default language 'de' must also be listed in 'enabled'",
    ),
    (
        "languages:\n  enabled: [da, en, fr]\n",
        "{f}:1: languages: enabled language(s) fr need an entry under 'voices'",
    ),
    (
        "callbacks:\n  windows:\n    - {{key: x, start: '25:00', end: '21:00'}}\n",
        "{f}:3: callbacks.windows[0].start = '25:00': must be a time of day written HH:MM in quotes, e.g. '17:00'",
    ),
    (
        "callbacks:\n  quiet_hours: {{start: '07:00', end: '07:00'}}\n",
        "{f}:2: callbacks.quiet_hours: start and end are both 07:00; give the night's span, e.g. start 21:30, end 07:00",
    ),
    (
        "callbacks:\n  quiet_hours: {{start: '21:30', end: late}}\n",
        "{f}:2: callbacks.quiet_hours.end = 'late': must be a time of day written HH:MM in quotes, e.g. '17:00'",
    ),
    (
        "destinations:\n  allowed_countries: [dk]\n",
        "{f}:2: destinations.allowed_countries: 'dk' is not an ISO 3166 country code; use two capital letters, e.g. DK",
    ),
    (
        "service:\n  name: [unclosed\n",
        "{f}:3: expected ',' or ']', but got '<stream end>'; fix the YAML syntax there (indentation, quotes, colons)",
    ),
    ("- just\n- a list\n", "{f}: the top level must be a mapping of keys (service:, languages:, ...)"),
    (
        "retention:\n  relatives_days: 0\n",
        "{f}:2: retention.relatives_days = 0: must be at least 1; set a larger number",
    ),
    (
        "retention:\n  message_bodies_days: 90\n  message_records_days: 30\n",
        "{f}:1: retention: message_records_days (30) is shorter than message_bodies_days (90): a record's numbers "
        "are kept at least as long as what it holds; raise message_records_days or lower message_bodies_days",
    ),
    (
        "retention:\n  outbox_days: 7\n",
        "{f}:1: retention: outbox_days (7) is shorter than message_bodies_days (90): a record's numbers "
        "are kept at least as long as what it holds; raise outbox_days or lower message_bodies_days",
    ),
    (
        "sms:\n  keyed_in_texts_per_number_per_day: -1\n",
        "{f}:2: sms.keyed_in_texts_per_number_per_day = -1: must be at least 0; set a larger number",
    ),
    (
        "callbacks:\n  keyed_in_per_number_per_day: 100\n",
        "{f}:2: callbacks.keyed_in_per_number_per_day = 100: must be at most 20; set a smaller number",
    ),
]


@pytest.mark.parametrize(("content", "expected"), BROKEN_FILES)
def test_broken_config_files(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(content.format(), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={}, config_path=path)
    assert caught.value.problems == [expected.format(f=path)]


SID = "AC" + "1" * 32
# A key of the strength live mode requires (made up for the tests; never used anywhere real).
TEST_SECRET_KEY = "9f0c2b7e4d1a6358" * 4

BROKEN_ENVIRONMENTS = [
    (
        {"TWILIO_ACCOUNT_SID": SID},
        [
            "TWILIO_AUTH_TOKEN is not set but its partner is: set both TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN for live "
            "mode, or neither for offline demo mode"
        ],
    ),
    (
        {
            "TWILIO_ACCOUNT_SID": "XX12",
            "TWILIO_AUTH_TOKEN": "t",
            "HOTLINE_SECRET_KEY": TEST_SECRET_KEY,
            "HOTLINE_PUBLIC_URL": "https://hotline.example",
        },
        [
            "TWILIO_ACCOUNT_SID=XX12...: an Account SID starts with 'AC' and has 34 characters; copy it from the Twilio "
            "console (Account Info)"
        ],
    ),
    (
        {
            "TWILIO_ACCOUNT_SID": SID,
            "TWILIO_AUTH_TOKEN": "t",
            "HOTLINE_PUBLIC_URL": "https://hotline.example",
        },
        [
            "HOTLINE_SECRET_KEY is not set: live mode signs staff links, calendar feeds and sessions with it, so it "
            "must be at least 32 bytes of randomness; generate one with: "
            "python3 -c 'import secrets; print(secrets.token_hex(32))'"
        ],
    ),
    (
        {
            "TWILIO_ACCOUNT_SID": SID,
            "TWILIO_AUTH_TOKEN": "t",
            "HOTLINE_PUBLIC_URL": "https://hotline.example",
            "HOTLINE_SECRET_KEY": "s",
        },
        [
            "HOTLINE_SECRET_KEY is too weak (1 bytes, 1 different characters): live mode signs staff links, calendar "
            "feeds and sessions with it, so it must be at least 32 bytes of randomness; generate one with: "
            "python3 -c 'import secrets; print(secrets.token_hex(32))'"
        ],
    ),
    (
        {
            "TWILIO_ACCOUNT_SID": SID,
            "TWILIO_AUTH_TOKEN": "t",
            "HOTLINE_PUBLIC_URL": "https://hotline.example",
            "HOTLINE_SECRET_KEY": "ab" * 32,
        },
        [
            "HOTLINE_SECRET_KEY is too weak (64 bytes, 2 different characters): live mode signs staff links, calendar "
            "feeds and sessions with it, so it must be at least 32 bytes of randomness; generate one with: "
            "python3 -c 'import secrets; print(secrets.token_hex(32))'"
        ],
    ),
    (
        {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": "t", "HOTLINE_SECRET_KEY": TEST_SECRET_KEY},
        [
            "HOTLINE_PUBLIC_URL is not set: live mode needs the https base URL Twilio calls (e.g. "
            "https://hotline.aarhus.dk) to check signatures and to hand Twilio callback URLs"
        ],
    ),
    ({"HOTLINE_PORT": "80a"}, ["HOTLINE_PORT='80a': must be a whole number from 1 to 65535, e.g. 8000"]),
    ({"HOTLINE_PORT": "70000"}, ["HOTLINE_PORT='70000': must be a whole number from 1 to 65535, e.g. 8000"]),
    (
        {"HOTLINE_PUBLIC_URL": "ftp://x"},
        [
            "HOTLINE_PUBLIC_URL='ftp://x': must be an http(s) base URL without query, e.g. https://hotline.aarhus.dk"
        ],
    ),
    (
        {"HOTLINE_TWILIO_API_URL": "localhost:9000"},
        [
            "HOTLINE_TWILIO_API_URL='localhost:9000': must be an http(s) base URL without query, e.g. "
            "https://hotline.aarhus.dk"
        ],
    ),
    (
        {"HOTLINE_DATABASE_URL": "mysql://u:pw@h/db"},
        [
            "HOTLINE_DATABASE_URL='mysql://u:***@h/db': mysql is not supported; use PostgreSQL (postgresql://...) or "
            "SQLite (sqlite:///...)"
        ],
    ),
    (
        {"HOTLINE_DATABASE_URL": "not a url"},
        [
            "HOTLINE_DATABASE_URL='not a url': not a database URL; use e.g. postgresql://user@host:5432/hotline or "
            "sqlite:///instance/hotline.db"
        ],
    ),
    (
        {"HOTLINE_CONFIG": "/nonexistent/hotline.yaml"},
        [
            "/nonexistent/hotline.yaml: the config file does not exist; set HOTLINE_CONFIG to an existing file or create "
            "it"
        ],
    ),
]


@pytest.mark.parametrize(("environ", "expected"), BROKEN_ENVIRONMENTS)
def test_broken_environments(environ: dict[str, str], expected: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"HOTLINE_CONFIG": str(REPO / "config.yaml"), **environ})
    assert caught.value.problems == expected


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("escalation:\n  step_timeout_seconds: 1\nweb:\n  trusted_proxies: -1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"HOTLINE_PORT": "x"}, config_path=path)
    assert len(caught.value.problems) == 3


def test_the_shipped_config_is_valid_and_means_aarhus() -> None:
    settings = load_settings(environ={}, config_path=REPO / "config.yaml")
    assert settings.file.languages.default == "da"
    assert settings.file.destinations.allowed_countries == ["DK"]
    assert settings.demo_mode
    assert settings.database_url == "sqlite:///instance/hotline.db"


def test_postgres_urls_use_psycopg() -> None:
    settings = load_settings(
        environ={"HOTLINE_DATABASE_URL": "postgresql://u@db:5432/hotline"}, config_path=REPO / "config.yaml"
    )
    assert settings.database_url == "postgresql+psycopg://u@db:5432/hotline"


@pytest.mark.parametrize("command", [["serve"], ["worker"], ["db", "upgrade"]])
def test_cli_prints_problems_and_exits_without_a_traceback(tmp_path: Path, command: list[str]) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("escalation:\n  step_timeout_seconds: -5\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
    env.update(HOTLINE_CONFIG=str(path), HOTLINE_PORT="nope")
    result = subprocess.run(
        [sys.executable, "-m", "hotline", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"hotline: {path}:2: escalation.step_timeout_seconds = -5: must be at least 5" in result.stderr
    assert "hotline: HOTLINE_PORT='nope': must be a whole number" in result.stderr


def test_check_command_exit_codes(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
    ok = subprocess.run(
        [sys.executable, "-m", "hotline", "check"],
        env={**env, "HOTLINE_CONFIG": str(REPO / "config.yaml")},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("web:\n  trusted_proxies: 9\n", encoding="utf-8")
    failed = subprocess.run(
        [sys.executable, "-m", "hotline", "check"],
        env={**env, "HOTLINE_CONFIG": str(bad)},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert failed.returncode == 1
    assert "web.trusted_proxies = 9: must be at most 5" in failed.stderr


def test_without_a_config_file_the_shipped_defaults_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An installed copy without config.yaml behaves like the committed config.yaml (which only overrides)."""
    monkeypatch.chdir(tmp_path)
    bare = load_settings(environ={})
    shipped = load_settings(environ={}, config_path=REPO / "config.yaml")
    assert bare.config_path is None
    assert bare.file == shipped.file
    assert bare.file.languages.voices["da"].say_language == "da-DK"


def test_a_config_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "languages:\n  voices:\n    da: {name: Dansk, voice: Polly.Sofie, say_language: da-DK}\n"
        "callbacks:\n  windows:\n    - key: asap\n",
        encoding="utf-8",
    )
    settings = load_settings(environ={}, config_path=path)
    defaults = load_settings(environ={}, config_path=DEFAULTS_FILE)
    assert settings.file.languages.voices["da"].voice == "Polly.Sofie"
    assert settings.file.languages.voices["en"] == defaults.file.languages.voices["en"]
    assert [w.key for w in settings.file.callbacks.windows] == ["asap"]  # a list is replaced as a whole
    assert settings.file.escalation == defaults.file.escalation


def test_a_broken_default_is_reported_in_the_defaults_file() -> None:
    """Missing keys are reported where the defaults live, so the fix is found there."""
    from hotline.config.errors import ConfigSource, describe_validation_error
    from hotline.config.sections import FileSettings

    rows = DEFAULTS_FILE.read_text(encoding="utf-8").splitlines(keepends=True)
    text = "".join(row for row in rows if not row.lstrip().startswith("busy_expiry_minutes:"))
    data = yaml.safe_load(text)
    with pytest.raises(ValidationError) as caught:
        FileSettings.model_validate(data)
    (line,) = describe_validation_error(caught.value, data, [ConfigSource(str(DEFAULTS_FILE), text, data)])
    at = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("escalation:"))
    assert line.startswith(f"{DEFAULTS_FILE}:{at}: escalation.busy_expiry_minutes: is required")


SECTION_MODELS = sorted(
    {
        field.annotation
        for field in FileSettings.model_fields.values()
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
    }
    | {SmsInfoSettings},
    key=lambda model: model.__name__,
)


@pytest.mark.parametrize("model", [FileSettings, *SECTION_MODELS], ids=lambda m: m.__name__)
def test_no_setting_has_a_default_in_python(model: type[BaseModel]) -> None:
    """defaults.yaml is the one place a default is written; a default here could disagree with it unseen."""
    assert [name for name, field in model.model_fields.items() if not field.is_required()] == []


def test_every_default_is_in_the_defaults_file() -> None:
    """Each setting the models know is written in defaults.yaml (so its comment can say what it means)."""
    data = yaml.safe_load(DEFAULTS_FILE.read_text(encoding="utf-8"))
    for name, field in FileSettings.model_fields.items():
        assert name in data, name
        model = field.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            assert set(data[name]) == set(model.model_fields), name


VOICE_NAME = re.compile(r"\b(?:Polly|Google)\.[A-Za-z][\w-]*")


def _text_files() -> list[Path]:
    tops = [REPO / name for name in ("hotline", "routing", "sms", "ivr_flows", "tests", "docs", "benchmarks")]
    files = [REPO / name for name in ("README.md", "config.yaml", "Makefile", "pyproject.toml")]
    for top in tops:
        files += [
            path
            for path in top.rglob("*")
            if path.is_file() and path.suffix in (".py", ".yaml", ".yml", ".md", ".html", ".toml")
        ]
    return sorted(files)


def test_a_voice_is_written_down_once() -> None:
    """Voices live in defaults.yaml (a deployment may override them in its config.yaml): nowhere else, not in
    Python, not in the flow's own files, not in the docs. (This file names one voice, as an override.)"""
    data = yaml.safe_load(DEFAULTS_FILE.read_text(encoding="utf-8"))
    voices = {v["voice"] for v in data["languages"]["voices"].values() if v.get("mode", "tts") == "tts"}
    assert voices and all(VOICE_NAME.fullmatch(voice) for voice in voices)
    elsewhere = [
        f"{path.relative_to(REPO)}:{number}: {match}"
        for path in _text_files()
        if path not in (DEFAULTS_FILE, Path(__file__))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for match in VOICE_NAME.findall(line)
    ]
    assert elsewhere == []


def test_the_shipped_languages_come_from_the_configuration() -> None:
    from hotline.config.voices import languages_from_settings
    from ivr_flows.prompts import PromptCatalogue

    settings = load_settings(environ={}, config_path=REPO / "config.yaml")
    languages = languages_from_settings(settings, PromptCatalogue.load())

    assert languages.default == "da"
    assert set(languages.by_code) == {"da", "en", "ar", "tr", "uk", "pl", "so"}
    assert languages.get("so").mode == "audio"
    assert "so" not in languages.enabled()  # enabled in config, but offered only once it is recorded
    for code, voice in settings.file.languages.voices.items():
        language = languages.get(code)
        assert (language.voice, language.locale) == (voice.voice or "", voice.say_language or "")


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("+4590123456", "premium-rate"),  # a Danish 90-number
        ("+4930123456", "country the hotline may not call"),  # Germany, not in destinations.allowed_countries
    ],
)
def test_a_fallback_number_the_guard_refuses_is_a_config_error(tmp_path: Path, number: str, why: str) -> None:
    """Every caller is put through to the fallback number during an outage: it passes the toll-fraud guard when
    the configuration is read (so `hotline check` and start-up fail), not only when Twilio dials it."""
    path = tmp_path / "config.yaml"
    path.write_text(f"service:\n  name: Test\n  fallback_number: '{number}'\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={}, config_path=path)
    (problem,) = caught.value.problems
    assert problem.startswith(
        f"{path}:3: service.fallback_number = '{number}': the toll-fraud guard refuses it"
    )
    assert why in problem
    path.write_text(
        f"service:\n  fallback_number: '{number}'\ndestinations:\n  allowed_countries: [DK, DE]\n"
    )
    if number.startswith("+49"):  # allowing the country is the fix the message names
        assert load_settings(environ={}, config_path=path).file.service.fallback_number == number

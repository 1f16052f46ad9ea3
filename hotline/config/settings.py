"""Typed settings: the shipped defaults, the deployment's `config.yaml` over them, plus secrets and deployment
values from the environment.

`load_settings()` returns a validated `Settings` or raises `ConfigError`, whose `problems` each name the key, the
value and the fix — the command line prints them one per line and exits non-zero, without a traceback. The
sections of the file are modelled in `hotline.config.sections`; their defaults are `defaults.yaml` beside this
module, the one place a default is written down.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from hotline.config.errors import (
    ConfigError,
    ConfigSource,
    describe_validation_error,
    where_written,
    yaml_line_of,
)
from hotline.config.sections import FileSettings
from routing import yaml_parser
from routing.guard import check_destination

DEFAULT_CONFIG_PATHS = (Path("config.yaml"),)
# Every setting's default, with comments; shipped in the package. A config file is laid over it.
DEFAULTS_FILE = Path(__file__).with_name("defaults.yaml")


def join_url(base: str, path: str, **params: object) -> str:
    """The one URL builder: `base` + `path`, with `params` as the query string ('' base: a relative URL)."""
    query = f"?{urlencode({k: str(v) for k, v in params.items()})}" if params else ""
    return f"{base}{path}{query}"


class Settings(BaseModel):
    """The validated whole: the file's settings plus what comes from the environment."""

    model_config = ConfigDict(frozen=True)
    file: FileSettings
    config_path: str | None
    database_url: str
    port: int
    public_url: str | None
    twilio_account_sid: str | None
    twilio_auth_token: str | None
    twilio_api_url: str | None
    secret_key: str | None
    oidc_client_secret: str | None
    metrics_token: str | None = None

    @property
    def demo_mode(self) -> bool:
        """True without Twilio credentials: nothing leaves the machine."""
        return not (self.twilio_account_sid and self.twilio_auth_token)

    @property
    def base_url(self) -> str:
        """Where the hotline is reached: HOTLINE_PUBLIC_URL, else this machine at the configured port."""
        return self.public_url or f"http://127.0.0.1:{self.port}"

    def url(self, path: str, **params: object) -> str:
        """An absolute URL of this hotline (outbound calls' webhooks, staff and calendar links)."""
        return join_url(self.base_url, path, **params)

    def twiml_url(self, path: str, **params: object) -> str:
        """A URL inside a TwiML answer: absolute with HOTLINE_PUBLIC_URL, else relative to the request Twilio made
        (so the terminal phone and tests follow it to whichever address they called)."""
        return join_url(self.public_url or "", path, **params)

    @property
    def instance_path(self) -> Path:
        return Path(self.file.instance_dir).resolve()

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


ENV_KEYS = (
    "HOTLINE_CONFIG",
    "HOTLINE_DATABASE_URL",
    "HOTLINE_PORT",
    "HOTLINE_PUBLIC_URL",
    "HOTLINE_TWILIO_API_URL",
    "HOTLINE_SECRET_KEY",
    "HOTLINE_OIDC_CLIENT_SECRET",
    "HOTLINE_METRICS_TOKEN",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
)


def _deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_config_file(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(
            [f"{path}: the config file does not exist; set HOTLINE_CONFIG to an existing file or create it"]
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            [f"{path}: cannot read the config file ({exc}); check its permissions and encoding"]
        ) from exc
    try:
        data = yaml_parser.parse(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or "is not valid YAML"
        raise ConfigError(
            [f"{where}: {problem}; fix the YAML syntax there (indentation, quotes, colons)"]
        ) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: the top level must be a mapping of keys (service:, languages:, ...)"])
    return data, text


def load_settings(
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    config_path: str | os.PathLike[str] | None = None,
) -> Settings:
    """Validate the config file (HOTLINE_CONFIG, else ./config.yaml, else none) laid over the shipped defaults
    (`DEFAULTS_FILE`), and the environment.

    `overrides` is merged over the file's content (tests pass settings this way). Raises ConfigError listing
    every problem found, not just the first.
    """
    env = dict(os.environ if environ is None else environ)
    path: Path | None = None
    if config_path is not None:
        path = Path(config_path)
    elif env.get("HOTLINE_CONFIG"):
        path = Path(env["HOTLINE_CONFIG"])
    else:
        path = next((p for p in DEFAULT_CONFIG_PATHS if p.exists()), None)

    defaults, defaults_text = _read_config_file(DEFAULTS_FILE)
    sources = []
    data = defaults
    if path is not None:
        own, text = _read_config_file(path)
        data = _deep_merge(data, own)
        sources.append(ConfigSource(str(path), text, own))
    sources.append(ConfigSource(str(DEFAULTS_FILE), defaults_text, defaults))
    if overrides:
        data = _deep_merge(data, overrides)

    problems: list[str] = []
    file_settings: FileSettings | None = None
    try:
        file_settings = FileSettings.model_validate(data)
    except ValidationError as exc:
        problems.extend(describe_validation_error(exc, data, sources))

    if file_settings is not None:
        problems.extend(_destination_problems(file_settings, sources))
        problems.extend(_oidc_problems(file_settings, env, sources))
    problems.extend(_environment_problems(env))
    if problems:
        raise ConfigError(problems)
    assert file_settings is not None

    database_url = env.get("HOTLINE_DATABASE_URL") or file_settings.database_url
    if not database_url:
        database_url = f"sqlite:///{Path(file_settings.instance_dir) / 'hotline.db'}"
    public_url = env.get("HOTLINE_PUBLIC_URL") or None
    return Settings(
        file=file_settings,
        config_path=str(path) if path else None,
        database_url=normalize_database_url(database_url),
        port=int(env.get("HOTLINE_PORT") or 8000),
        public_url=public_url.rstrip("/") if public_url else None,
        twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
        twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
        twilio_api_url=(env.get("HOTLINE_TWILIO_API_URL") or "").rstrip("/") or None,
        secret_key=env.get("HOTLINE_SECRET_KEY") or None,
        oidc_client_secret=env.get("HOTLINE_OIDC_CLIENT_SECRET") or None,
        metrics_token=env.get("HOTLINE_METRICS_TOKEN") or None,
    )


def written_at(settings: Settings, *loc: str | int) -> str:
    """`file:line` where the setting at `loc` (`"callbacks", "windows"`) is written: in the deployment's config
    file when it sets it, else in the shipped defaults. For messages that send the reader to the setting."""
    sources = []
    for path in (settings.config_path, DEFAULTS_FILE):
        if path is not None:
            data, text = _read_config_file(Path(path))
            sources.append(ConfigSource(_shown(Path(path)), text, data))
    return where_written(sources, loc)


def _shown(path: Path) -> str:
    """`path` relative to the working directory when it is inside it (as people type it), else absolute."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def normalize_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written without a driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


# HOTLINE_SECRET_KEY: 32 random bytes (token_hex(32) gives 64 hex digits). A short or repetitive key makes every
# signed link forgeable offline; a key of this length drawn from fewer different characters is not random.
SECRET_MIN_BYTES = 32
SECRET_MIN_DISTINCT = 12


def secret_is_strong(secret: str) -> bool:
    """True for a key that can be 32 random bytes: long enough, and not one or a few characters repeated."""
    return len(secret.encode()) >= SECRET_MIN_BYTES and len(set(secret)) >= SECRET_MIN_DISTINCT


def _environment_problems(env: Mapping[str, str]) -> list[str]:
    from urllib.parse import urlsplit

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    problems: list[str] = []
    sid, token = env.get("TWILIO_ACCOUNT_SID", ""), env.get("TWILIO_AUTH_TOKEN", "")
    if bool(sid) != bool(token):
        missing = "TWILIO_AUTH_TOKEN" if sid else "TWILIO_ACCOUNT_SID"
        problems.append(
            f"{missing} is not set but its partner is: set both TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN for "
            "live mode, or neither for offline demo mode"
        )
    if sid and not (sid.startswith("AC") and len(sid) == 34):
        problems.append(
            f"TWILIO_ACCOUNT_SID={sid[:6]}...: an Account SID starts with 'AC' and has 34 characters; copy it "
            "from the Twilio console (Account Info)"
        )
    secret = env.get("HOTLINE_SECRET_KEY", "")
    if sid and token and not secret_is_strong(secret):
        what = (
            "is not set"
            if not secret
            else f"is too weak ({len(secret.encode())} bytes, {len(set(secret))} different characters)"
        )
        problems.append(
            f"HOTLINE_SECRET_KEY {what}: live mode signs staff links, calendar feeds and sessions with it, so it "
            f"must be at least {SECRET_MIN_BYTES} bytes of randomness; generate one with: "
            "python3 -c 'import secrets; print(secrets.token_hex(32))'"
        )
    if sid and token and not env.get("HOTLINE_PUBLIC_URL"):
        problems.append(
            "HOTLINE_PUBLIC_URL is not set: live mode needs the https base URL Twilio calls (e.g. "
            "https://hotline.aarhus.dk) to check signatures and to hand Twilio callback URLs"
        )
    metrics_token = env.get("HOTLINE_METRICS_TOKEN", "")
    if metrics_token and not secret_is_strong(metrics_token):
        problems.append(
            f"HOTLINE_METRICS_TOKEN is too weak ({len(metrics_token.encode())} bytes, {len(set(metrics_token))} "
            "different characters): whoever has it reads /metrics, so make it at least "
            f"{SECRET_MIN_BYTES} bytes of randomness: python3 -c 'import secrets; print(secrets.token_hex(32))', "
            "or unset it to allow only web.metrics_allow"
        )
    port = env.get("HOTLINE_PORT")
    if (
        port is not None
        and port != ""
        and not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535)
    ):
        problems.append(f"HOTLINE_PORT={port!r}: must be a whole number from 1 to 65535, e.g. 8000")
    for key in ("HOTLINE_PUBLIC_URL", "HOTLINE_TWILIO_API_URL"):
        value = env.get(key)
        if value:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
                problems.append(
                    f"{key}={value!r}: must be an http(s) base URL without query, e.g. https://hotline.aarhus.dk"
                )
    db = env.get("HOTLINE_DATABASE_URL")
    if db:
        try:
            url = make_url(normalize_database_url(db))
        except ArgumentError:
            problems.append(
                f"HOTLINE_DATABASE_URL={_redact_url(db)!r}: not a database URL; use e.g. "
                "postgresql://user@host:5432/hotline or sqlite:///instance/hotline.db"
            )
        else:
            if url.get_backend_name() not in ("sqlite", "postgresql"):
                problems.append(
                    f"HOTLINE_DATABASE_URL={_redact_url(db)!r}: {url.get_backend_name()} is not supported; use "
                    "PostgreSQL (postgresql://...) or SQLite (sqlite:///...)"
                )
    return problems


def _redact_url(url: str) -> str:
    """Hide a password in a database URL before it is shown."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable>"
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


__all__ = [
    "ENV_KEYS",
    "ConfigError",
    "FileSettings",
    "Settings",
    "load_settings",
    "written_at",
    "yaml_line_of",
]


def _oidc_problems(
    file_settings: FileSettings, env: Mapping[str, str], sources: Sequence[ConfigSource]
) -> list[str]:
    """OpenID Connect sign-in needs its client secret, which only the environment may hold."""
    if not file_settings.console.oidc.enabled or env.get("HOTLINE_OIDC_CLIENT_SECRET"):
        return []
    where = where_written(sources, ["console", "oidc", "client_id"])
    return [
        f"{where}: console.oidc is set up but HOTLINE_OIDC_CLIENT_SECRET is not set: give the client secret of "
        "the app registration in the environment (never in config.yaml), or remove console.oidc.client_id"
    ]


def _destination_problems(file_settings: FileSettings, sources: Sequence[ConfigSource]) -> list[str]:
    """The fallback number is dialled for every caller during an outage: it must pass the toll-fraud guard."""
    number = file_settings.service.fallback_number
    if not number:
        return []
    decision = check_destination(number, file_settings.destinations.policy())
    if decision.allowed:
        return []
    where = where_written(sources, ["service", "fallback_number"])
    return [
        f"{where}: service.fallback_number = {number!r}: the toll-fraud guard refuses it ({decision.explanation}); "
        "give a staffed Danish number, or widen destinations.allowed_countries if it really is abroad"
    ]

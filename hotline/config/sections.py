"""The sections of `config.yaml` as typed, validated models (pydantic); `hotline.config.settings` loads them.

The models say what is valid and hold no default values: every default is written once, in
`hotline/config/defaults.yaml`, which the deployment's config file is laid over. (Only the fields of list items,
such as a callback window without hours, have a meaning when left out.)"""

from __future__ import annotations

from datetime import time
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from routing.guard import DestinationPolicy
from routing.numbers import normalize_number
from sms.ratelimit import ReplyLimits, SendCaps

_STRICT = ConfigDict(extra="forbid", frozen=True)


def _e164(value: str | None, *, required: bool) -> str | None:
    if value in (None, ""):
        if required:
            raise ValueError("a phone number is required; write it in E.164 form, e.g. '+4568000000'")
        return None
    normalized = normalize_number(str(value))
    if normalized is None:
        raise ValueError("is not a phone number; write it in E.164 form, e.g. '+4568000000'")
    return normalized


class ServiceSettings(BaseModel):
    model_config = _STRICT
    name: str
    municipality: str
    hotline_number: str
    fallback_number: str | None

    @field_validator("hotline_number")
    @classmethod
    def _hotline(cls, v: str) -> str:
        result = _e164(v, required=True)
        assert result is not None
        return result

    @field_validator("fallback_number")
    @classmethod
    def _fallback(cls, v: str | None) -> str | None:
        return _e164(v, required=False)


class VoiceSettings(BaseModel):
    """How callers hear one language: a Twilio `<Say>` voice, or recorded audio when Twilio has no voice."""

    model_config = _STRICT
    name: str
    mode: Literal["tts", "audio"] = "tts"
    voice: str | None = None
    say_language: str | None = None

    @model_validator(mode="after")
    def _voice_for_tts(self) -> VoiceSettings:
        if self.mode == "tts" and not (self.voice and self.say_language):
            raise ValueError(
                "mode 'tts' needs both 'voice' (a Twilio <Say> voice name, see hotline/config/defaults.yaml) and "
                "'say_language' (e.g. da-DK)"
            )
        return self


class LanguageSettings(BaseModel):
    """Which languages callers can choose, and the voice (or recordings) each is spoken with."""

    model_config = _STRICT
    default: str
    enabled: list[str]
    voices: dict[str, VoiceSettings]

    @model_validator(mode="after")
    def _consistent(self) -> LanguageSettings:
        if self.default not in self.enabled:
            raise ValueError(f"default language {self.default!r} must also be listed in 'enabled'")
        missing = [code for code in self.enabled if code not in self.voices]
        if missing:
            raise ValueError(f"enabled language(s) {', '.join(missing)} need an entry under 'voices'")
        return self


class EscalationSettings(BaseModel):
    model_config = _STRICT
    step_timeout_seconds: int = Field(ge=5, le=120)
    max_wait_seconds_acute: int = Field(ge=30, le=3600)
    max_wait_seconds_question: int = Field(ge=30, le=3600)
    busy_expiry_minutes: int = Field(ge=5, le=24 * 60)


class CallbackWindow(BaseModel):
    """A time of day a relative can ask to be called back, in local time; `asap` has no hours."""

    model_config = _STRICT
    key: str
    start: time | None = None
    end: time | None = None

    @model_validator(mode="after")
    def _both_or_neither(self) -> CallbackWindow:
        if (self.start is None) != (self.end is None):
            raise ValueError(
                "a window needs both 'start' and 'end' (HH:MM), or neither for 'as soon as possible'"
            )
        return self


class QuietHoursSettings(BaseModel):
    """Local hours in which a question is not called back unless the relative chose a window in them."""

    model_config = _STRICT
    start: time
    end: time

    @model_validator(mode="after")
    def _a_span(self) -> QuietHoursSettings:
        if self.start == self.end:
            raise ValueError(
                f"start and end are both {self.start:%H:%M}; give the night's span, e.g. start 21:30, end 07:00"
            )
        return self


class CallbackSettings(BaseModel):
    model_config = _STRICT
    response_minutes_acute: int = Field(ge=5)
    response_minutes_question: int = Field(ge=15)
    max_attempts: int = Field(ge=1, le=10)
    minutes_between_attempts: int = Field(ge=5)
    keyed_in_per_number_per_day: int = Field(ge=0, le=20)
    quiet_hours: QuietHoursSettings
    windows: list[CallbackWindow]

    @field_validator("windows")
    @classmethod
    def _unique_keys(cls, v: list[CallbackWindow]) -> list[CallbackWindow]:
        keys = [w.key for w in v]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(
                f"window key(s) {', '.join(dupes)} are listed twice; give each window its own key"
            )
        if not v:
            raise ValueError("at least one callback window is needed, e.g. '- key: asap'")
        return v


class DestinationSettings(BaseModel):
    model_config = _STRICT
    allowed_countries: list[str]
    allow_toll_free: bool

    @field_validator("allowed_countries")
    @classmethod
    def _regions(cls, v: list[str]) -> list[str]:
        bad = [c for c in v if not (len(c) == 2 and c.isalpha() and c.isupper())]
        if bad:
            raise ValueError(f"{bad[0]!r} is not an ISO 3166 country code; use two capital letters, e.g. DK")
        return v

    def policy(self) -> DestinationPolicy:
        """The toll-fraud guard's rules: where the hotline may call and text."""
        return DestinationPolicy(
            allowed_countries=tuple(self.allowed_countries), allow_toll_free=self.allow_toll_free
        )


class RetentionSettings(BaseModel):
    """Days each class of personal data is kept (docs/records-of-processing.md)."""

    model_config = _STRICT
    message_bodies_days: int = Field(ge=1)
    recordings_days: int = Field(ge=1)
    notes_days: int = Field(ge=1)
    call_records_days: int = Field(ge=1)
    message_records_days: int = Field(ge=1)
    outbox_days: int = Field(ge=1)
    closed_callbacks_days: int = Field(ge=1)
    relatives_days: int = Field(ge=1)

    @model_validator(mode="after")
    def _records_outlive_contents(self) -> RetentionSettings:
        # What a record holds goes no later than the numbers saying whose it is: a relative's words or voice kept
        # under a pseudonym could no longer be found for an access or erasure request.
        for numbers, contents in (
            ("message_records_days", "message_bodies_days"),
            ("outbox_days", "message_bodies_days"),
            ("call_records_days", "recordings_days"),
        ):
            if getattr(self, numbers) < getattr(self, contents):
                raise ValueError(
                    f"{numbers} ({getattr(self, numbers)}) is shorter than {contents} ({getattr(self, contents)}): "
                    f"a record's numbers are kept at least as long as what it holds; raise {numbers} or lower "
                    f"{contents}"
                )
        return self


class WebSettings(BaseModel):
    model_config = _STRICT
    trusted_proxies: int = Field(ge=0, le=5)
    max_request_bytes: int = Field(ge=16 * 1024)
    # Networks whose addresses may read /metrics without a token (the client address after trusted_proxies).
    metrics_allow: list[str]

    @field_validator("metrics_allow")
    @classmethod
    def _networks(cls, v: list[str]) -> list[str]:
        for entry in v:
            try:
                ip_network(str(entry), strict=False)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP network; write addresses in CIDR form, e.g. 127.0.0.1/32 or "
                    "10.20.0.0/16 (the Prometheus servers), or [] to allow none without HOTLINE_METRICS_TOKEN"
                ) from None
        return [str(ip_network(str(entry), strict=False)) for entry in v]

    def metrics_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return tuple(ip_network(entry) for entry in self.metrics_allow)


class SchedulerSettings(BaseModel):
    model_config = _STRICT
    heartbeat_seconds: int = Field(ge=1, le=300)
    leader_poll_seconds: float = Field(gt=0, le=25)


def _http_url(value: str | None, *, required: bool) -> str | None:
    if value in (None, ""):
        if required:
            raise ValueError("a link is required; write a full https URL, e.g. 'https://www.aarhus.dk/...'")
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(str(value))
    if parts.scheme not in ("http", "https") or not parts.netloc or any(ch.isspace() for ch in str(value)):
        raise ValueError("is not a web address; write a full https URL, e.g. 'https://www.aarhus.dk/...'")
    return str(value)


class SmsInfoSettings(BaseModel):
    """What the information keywords (TILBUD, HÅNDBOG, NETVÆRK, MENTOR) send: links and the mentor phone."""

    model_config = _STRICT
    offers_url: str
    handbook_url: str
    network_url: str
    mentor_url: str
    mentor_phone: str

    @field_validator("offers_url", "handbook_url", "network_url", "mentor_url")
    @classmethod
    def _url(cls, v: str) -> str:
        result = _http_url(v, required=True)
        assert result is not None
        return result

    @field_validator("mentor_phone")
    @classmethod
    def _phone(cls, v: str) -> str:
        result = _e164(v, required=True)
        assert result is not None
        return result


class SmsSettings(BaseModel):
    """Texts: segment budget, automatic-reply caps, and how the outbox retries."""

    model_config = _STRICT
    max_segments: int = Field(ge=1, le=10)
    auto_replies_per_number_per_hour: int = Field(ge=0)
    auto_replies_total_per_hour: int = Field(ge=0)
    keyed_in_texts_per_number_per_day: int = Field(ge=0, le=50)
    send_attempts: int = Field(ge=1, le=20)
    retry_seconds: int = Field(ge=0, le=3600)
    retry_max_seconds: int = Field(ge=0, le=24 * 3600)
    batch_size: int = Field(ge=1, le=1000)
    send_threads: int = Field(ge=1, le=64)
    sending_timeout_minutes: int = Field(ge=5, le=24 * 60)
    staff_url: str | None
    info: SmsInfoSettings

    @field_validator("staff_url")
    @classmethod
    def _staff(cls, v: str | None) -> str | None:
        result = _http_url(v, required=False)
        return result.rstrip("/") if result else None

    @model_validator(mode="after")
    def _backoff(self) -> SmsSettings:
        if self.retry_max_seconds < self.retry_seconds:
            raise ValueError(
                f"retry_max_seconds ({self.retry_max_seconds}) must be at least retry_seconds "
                f"({self.retry_seconds})"
            )
        return self


class JobSettings(BaseModel):
    """When the clockwork runs. Times of day are Copenhagen wall-clock times (routing.wallclock)."""

    model_config = _STRICT
    outbox_seconds: int = Field(ge=1, le=300)
    callbacks_seconds: int = Field(ge=5, le=900)
    shift_lookback_minutes: int = Field(ge=5, le=24 * 60)
    gap_report_at: time
    gap_report_days: int = Field(ge=1, le=31)
    purge_at: time
    erasure_seconds: int = Field(ge=10, le=24 * 3600)
    spool_seconds: int = Field(ge=1, le=600)


class LoggingSettings(BaseModel):
    model_config = _STRICT
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"]


Layer = Literal["primary", "backup", "manager"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class CoverageWindowSettings(BaseModel):
    """Hours the hotline promises a human (local time); an end at or before the start runs past midnight."""

    model_config = _STRICT
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS))
    start: time
    end: time


class RoutingSettings(BaseModel):
    """How the chain of advisors is ordered (see docs/roster.md), and which hours must be covered."""

    model_config = _STRICT
    contact_person_first: bool
    language_first: bool
    layer_order: bool
    acute_layers: list[Layer]
    question_layers: list[Layer]
    # Empty: around the clock (24/7). Gaps are reported only inside these hours.
    coverage_hours: list[CoverageWindowSettings]

    @field_validator("acute_layers", "question_layers")
    @classmethod
    def _some_layer(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("list at least one layer (primary, backup, manager), or calls would ring nobody")
        return v


class OidcSettings(BaseModel):
    """Sign-in to the console with the municipality's identity provider (OpenID Connect, e.g. Entra ID).

    On when both `metadata_url` and `client_id` are set; the client secret comes from the environment
    (HOTLINE_OIDC_CLIENT_SECRET). The claim `username_claim` is matched, lower-cased, to a staff account's
    username: an account must exist (`hotline staff add USER --no-password`), nobody is created on the fly."""

    model_config = _STRICT
    metadata_url: str | None
    client_id: str | None
    display_name: str
    scopes: str
    username_claim: str

    @field_validator("metadata_url")
    @classmethod
    def _metadata(cls, v: str | None) -> str | None:
        return _http_url(v, required=False)

    @model_validator(mode="after")
    def _both_or_neither(self) -> OidcSettings:
        if bool(self.metadata_url) != bool(self.client_id):
            missing = "client_id" if self.metadata_url else "metadata_url"
            raise ValueError(
                f"set both metadata_url and client_id to sign in with OpenID Connect, or neither; {missing} is "
                "missing"
            )
        if "openid" not in self.scopes.split():
            raise ValueError("scopes must include 'openid', e.g. 'openid profile email'")
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.metadata_url and self.client_id)


class ConsoleSettings(BaseModel):
    """The staff console: how long a session lasts, when wrong passwords lock an account, and OpenID Connect."""

    model_config = _STRICT
    session_minutes: int = Field(ge=5, le=24 * 60)
    lockout_attempts: int = Field(ge=3, le=20)
    lockout_minutes: int = Field(ge=1, le=24 * 60)
    database_connections: int = Field(ge=1, le=50)
    database_wait_seconds: float = Field(gt=0, le=60)
    statement_seconds: float = Field(gt=0, le=300)
    oidc: OidcSettings


class FileSettings(BaseModel):
    """Everything `config.yaml` may hold."""

    model_config = _STRICT
    service: ServiceSettings
    languages: LanguageSettings
    escalation: EscalationSettings
    routing: RoutingSettings
    callbacks: CallbackSettings
    destinations: DestinationSettings
    retention: RetentionSettings
    web: WebSettings
    scheduler: SchedulerSettings
    sms: SmsSettings
    jobs: JobSettings
    logging: LoggingSettings
    console: ConsoleSettings
    instance_dir: str
    database_url: str | None

    def send_caps(self) -> SendCaps:
        """The caps on automatic texts to relatives and on keyed-in numbers (`sms`, `callbacks`)."""
        return SendCaps(
            hourly=ReplyLimits(
                self.sms.auto_replies_per_number_per_hour, self.sms.auto_replies_total_per_hour
            ),
            keyed_in_texts_per_day=self.sms.keyed_in_texts_per_number_per_day,
            keyed_in_callbacks_per_day=self.callbacks.keyed_in_per_number_per_day,
        )

"""What a running hotline holds: settings, database, prompts, the outbound transport and the signing secret."""

from __future__ import annotations

import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.settings import Settings
from hotline.config.voices import languages_from_settings
from hotline.db.session import SEND_CAPS, Limits, make_engine, make_session_factory
from hotline.transport.base import Transport
from hotline.transport.guarded import GuardedTransport
from ivr_flows.flow import Flow
from ivr_flows.flow_file import MAIN_FLOW, load_flow
from ivr_flows.languages import Languages
from ivr_flows.prompts import PromptCatalogue
from routing.guard import DestinationPolicy

DEMO_SECRET_FILE = "demo_signing_secret"


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    prompts: PromptCatalogue
    transport: Transport
    signing_secret: str
    flow: Flow
    languages: Languages
    # The staff console's own small pool, with a time limit on every statement: a slow or stuck console page
    # cannot take the connections the webhooks answer calls with (config `console.database_*`).
    console_engine: Engine
    console_sessions: sessionmaker[Session]
    # Answers of the call flow that are the same for every call in the same state (a menu, the greeting), as
    # TwiML text, rendered once (hotline.twilio.flow); keyed by (CallState, event).
    answers: dict[tuple[object, object], str] = field(default_factory=dict)
    # The outbox's send threads (sms.send_threads), started at the first batch and kept, so each keeps its
    # connection to Twilio alive between batches.
    _send_pool: ThreadPoolExecutor | None = field(default=None, repr=False)

    def send_pool(self) -> ThreadPoolExecutor:
        """The threads a batch of texts is sent with (they touch the transport only, never the database)."""
        if self._send_pool is None:
            self._send_pool = ThreadPoolExecutor(
                max_workers=self.settings.file.sms.send_threads, thread_name_prefix="outbox-send"
            )
        return self._send_pool

    def dispose(self) -> None:
        """Close every pooled connection (both pools) and stop the send threads."""
        if self._send_pool is not None:
            self._send_pool.shutdown(wait=True)
            self._send_pool = None
        self.engine.dispose()
        self.console_engine.dispose()

    @property
    def policy(self) -> DestinationPolicy:
        """Where the hotline may call and text (the toll-fraud guard's rules)."""
        return self.settings.file.destinations.policy()


def demo_signing_secret(instance_path: Path) -> str:
    """The local secret the offline demo signs webhooks with; created once, kept in the instance folder.

    Written to a temporary file and linked into place, so two processes starting together (serve and worker)
    agree on one secret and never read a half-written file.
    """
    instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = instance_path / DEMO_SECRET_FILE
    if not path.exists():
        temporary = instance_path / f".{DEMO_SECRET_FILE}.{os.getpid()}"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process was first: use its secret
        finally:
            temporary.unlink()
    return path.read_text().strip()


def build_runtime(settings: Settings, transport: Transport | None = None) -> Runtime:
    """Wire the parts together; opens no connection (engines connect lazily)."""
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine, info={SEND_CAPS: settings.file.send_caps()})
    console = settings.file.console
    console_engine = make_engine(
        settings.database_url,
        limits=Limits(console.database_connections, console.database_wait_seconds, console.statement_seconds),
    )
    console_sessions = make_session_factory(console_engine, info={SEND_CAPS: settings.file.send_caps()})
    prompts = PromptCatalogue.load(default_language=settings.file.languages.default)
    if transport is None:
        transport = make_transport(settings, sessions)
    transport = GuardedTransport(transport, settings.file.destinations.policy())
    if settings.demo_mode:
        secret = demo_signing_secret(settings.instance_path)
    else:
        assert settings.twilio_auth_token is not None
        secret = settings.twilio_auth_token
    languages = languages_from_settings(settings, prompts)
    flow = load_flow(MAIN_FLOW, languages)
    return Runtime(
        settings,
        engine,
        sessions,
        prompts,
        transport,
        secret,
        flow,
        languages,
        console_engine,
        console_sessions,
    )


def make_transport(settings: Settings, sessions: sessionmaker[Session]) -> Transport:
    """Twilio with credentials; the offline demo transport without."""
    if settings.demo_mode:
        from hotline.transport.demo import DemoTransport

        return DemoTransport(sessions)
    from hotline.twilio.rest import TwilioTransport, make_client

    assert settings.twilio_account_sid and settings.twilio_auth_token
    client = make_client(settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_api_url)
    return TwilioTransport(client)

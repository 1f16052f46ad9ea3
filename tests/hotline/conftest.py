"""Fixtures the adapter tests share: the app with a roster, apps built with other settings, a fake Twilio on
loopback and the app sending through the real twilio Client to it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from hotline.runtime import Runtime
from hotline.twilio.rest import TwilioTransport, make_client
from tests.fake_twilio import FakeTwilio
from tests.helpers import ALWAYS_ON_CALL, TWILIO_ACCOUNT, TWILIO_NOW, AppFactory, import_roster


@pytest.fixture
def rostered(app: Flask) -> Flask:
    """The app with the ALWAYS_ON_CALL roster: anna and dalia first, then bo, then carl; all on call 24/7."""
    import_roster(app, ALWAYS_ON_CALL)
    return app


@pytest.fixture
def runtime(app: Flask) -> Runtime:
    """The app's runtime with the DAILY_SHIFTS roster (anna 7-15, dalia 15-23, bo 23-7, mads the manager)."""
    import_roster(app)
    rt: Runtime = app.extensions["hotline"]
    return rt


@pytest.fixture
def make_app(settings_mapping: dict[str, Any]) -> Iterator[AppFactory]:
    factory = AppFactory(settings_mapping)
    yield factory
    factory.close()


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    server = FakeTwilio(clock=lambda: TWILIO_NOW).start()  # Twilio dates texts in the tests' time
    yield server
    server.stop()


@pytest.fixture
def live(make_app: AppFactory, fake: FakeTwilio) -> Flask:
    """The app sending through the real twilio Client to the fake Twilio (1 s client timeout)."""
    return make_app(transport=TwilioTransport(make_client(TWILIO_ACCOUNT, "token", fake.url, timeout=1.0)))

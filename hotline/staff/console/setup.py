"""Putting the console into the app: session cookie, Flask-Login, Flask-Babel and the console blueprint.

CSRF protection is the app's (`hotline.app.register_csrf`): it covers every form of every part, and leaves out
only Twilio's webhooks, which prove themselves with Twilio's signature instead.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from hotline.config.settings import Settings
from hotline.staff.console.i18n import init_babel
from hotline.staff.console.identity import init_login
from hotline.staff.console.oidc import init_oidc

LOGIN_VIEW = "console.auth.login"


def init_console(app: Flask, settings: Settings) -> None:
    lifetime = timedelta(minutes=settings.file.console.session_minutes)
    app.config.update(
        SESSION_COOKIE_NAME="hotline_console",
        SESSION_COOKIE_SECURE=not settings.demo_mode,  # live mode runs behind https (HOTLINE_PUBLIC_URL)
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # The signed cookie is refused by the server after this long without a request, whatever the browser
        # keeps: Flask checks the signature's age against it.
        PERMANENT_SESSION_LIFETIME=lifetime,
        WTF_CSRF_TIME_LIMIT=int(lifetime.total_seconds()),
    )
    init_babel(app)
    init_login(app, LOGIN_VIEW)
    init_oidc(app, settings)
    from hotline.staff.console.blueprint import bp

    app.register_blueprint(bp)

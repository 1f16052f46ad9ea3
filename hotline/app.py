"""The Flask application factory."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, jsonify, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from hotline.config.settings import ENV_KEYS, Settings, load_settings
from hotline.logs import configure_logging
from hotline.runtime import Runtime, build_runtime
from hotline.transport.base import Transport

log = logging.getLogger(__name__)


def create_app(
    config: Settings | Mapping[str, Any] | None = None, *, transport: Transport | None = None
) -> Flask:
    """Build the hotline app. `config` is Settings, or a mapping of environment names (TWILIO_AUTH_TOKEN,
    HOTLINE_DATABASE_URL, ...) with an optional `config` mapping merged over config.yaml and an optional
    `config_path`; None reads the real environment. Nothing connects to the database here."""
    settings = _settings_from(config)
    app = Flask(__name__, instance_path=str(settings.instance_path))
    runtime = build_runtime(settings, transport)
    app.config.update(
        SECRET_KEY=settings.secret_key or _demo_session_key(runtime),
        MAX_CONTENT_LENGTH=settings.file.web.max_request_bytes,
        JSON_AS_ASCII=False,
    )
    register_logging(settings)
    register_runtime(app, runtime)
    register_sessions(app)
    register_proxies(app, settings)
    register_blueprints(app)
    register_monitoring(app)
    register_console(app, settings)
    register_csrf(app)
    register_error_handlers(app)
    return app


def _demo_session_key(runtime: Runtime) -> str:
    """Without HOTLINE_SECRET_KEY (the offline demo; live mode requires it): a key for the console's session
    cookies derived from the demo's own random secret, so a session cannot be forged with a key anyone can read
    here."""
    return hmac.new(runtime.signing_secret.encode(), b"console sessions", hashlib.sha256).hexdigest()


def _settings_from(config: Settings | Mapping[str, Any] | None) -> Settings:
    if isinstance(config, Settings):
        return config
    if config is None:
        return load_settings()
    environ = {k: str(v) for k, v in config.items() if k in ENV_KEYS}
    return load_settings(
        environ=environ, overrides=config.get("config"), config_path=config.get("config_path")
    )


def register_logging(settings: Settings) -> None:
    configure_logging(settings.file.logging.level)


def register_runtime(app: Flask, runtime: Runtime) -> None:
    app.extensions["hotline"] = runtime


def register_sessions(app: Flask) -> None:
    from hotline.web import StaffSessions

    app.session_interface = StaffSessions()


def register_proxies(app: Flask, settings: Settings) -> None:
    hops = settings.file.web.trusted_proxies
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]


def register_blueprints(app: Flask) -> None:
    from hotline import ops
    from hotline.staff import calendar, pages
    from hotline.twilio import audio
    from hotline.twilio import blueprint as twilio

    app.register_blueprint(twilio.bp)
    app.register_blueprint(audio.bp)
    app.register_blueprint(ops.bp)
    app.register_blueprint(calendar.bp)
    app.register_blueprint(pages.bp)


def register_monitoring(app: Flask) -> None:
    """/metrics, and the timing of every Twilio webhook."""
    from hotline import monitoring

    monitoring.time_webhooks(app)
    app.register_blueprint(monitoring.bp)


def register_console(app: Flask, settings: Settings) -> None:
    from hotline.staff.console.setup import init_console

    init_console(app, settings)


def register_csrf(app: Flask) -> None:
    """CSRF tokens on every form and htmx request, except Twilio's webhooks: Twilio cannot send a token, and
    each of its requests carries Twilio's signature, which the /twilio blueprint checks instead."""
    csrf = CSRFProtect(app)
    for name, blueprint in app.blueprints.items():
        if name == "twilio" or name.startswith("twilio."):
            csrf.exempt(blueprint)


def register_error_handlers(app: Flask) -> None:
    """Outside /twilio/ (whose blueprints answer their own errors): HTTP errors as JSON, anything else a logged
    500 without details."""

    @app.errorhandler(Exception)
    def _unhandled(error: Exception) -> Any:
        if isinstance(error, HTTPException):
            return jsonify(error=error.name, status=error.code), error.code or 500
        log.error("unhandled error", exc_info=error, extra={"path": request.path})
        return jsonify(error="Internal Server Error", status=500), 500

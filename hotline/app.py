"""The Flask application factory."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from hotline.logs import configure_logging
from hotline.runtime import Runtime, build_runtime
from hotline.settings import ENV_KEYS, Settings, load_settings
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
    app.config.update(
        SECRET_KEY=settings.secret_key or "demo-only-not-secret",
        MAX_CONTENT_LENGTH=settings.file.web.max_request_bytes,
        JSON_AS_ASCII=False,
    )
    register_logging(settings)
    register_runtime(app, build_runtime(settings, transport))
    register_proxies(app, settings)
    register_blueprints(app)
    register_error_handlers(app)
    return app


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


def register_proxies(app: Flask, settings: Settings) -> None:
    hops = settings.file.web.trusted_proxies
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]


def register_blueprints(app: Flask) -> None:
    from hotline import calendar_feed, callback_voice, dialing, ivr, ops, staff_pages, webhooks

    app.register_blueprint(webhooks.bp)
    app.register_blueprint(ivr.bp)
    app.register_blueprint(dialing.bp)
    app.register_blueprint(callback_voice.bp)
    app.register_blueprint(ops.bp)
    app.register_blueprint(calendar_feed.bp)
    app.register_blueprint(staff_pages.bp)


def register_error_handlers(app: Flask) -> None:
    from hotline import webhooks

    @app.errorhandler(Exception)
    def _unhandled(error: Exception) -> Any:
        if isinstance(error, HTTPException):
            if request.path.startswith("/twilio/") and error.code not in (403, 404, 405, 413):
                return _twilio_failure(error)
            return jsonify(error=error.name, status=error.code), error.code or 500
        if request.path.startswith("/twilio/"):
            return _twilio_failure(error)
        log.error("unhandled error", exc_info=error, extra={"path": request.path})
        return jsonify(error="Internal Server Error", status=500), 500

    def _twilio_failure(error: Exception) -> Response:
        if request.path.startswith(("/twilio/voice", "/twilio/callback")) and not request.path.endswith(
            "status"
        ):
            return webhooks.voice_error_answer(error)
        if request.path == "/twilio/sms":
            return webhooks.sms_error_answer(error)
        return webhooks.status_error_answer(error)

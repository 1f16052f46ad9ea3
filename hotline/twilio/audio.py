"""Recorded prompts for languages Twilio cannot speak, fetched by Twilio's <Play>. Public, outside /twilio/:
prompts are not personal data, and a media fetch carries no signature to check.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, send_from_directory

from ivr_flows.languages import AUDIO_DIR

bp = Blueprint("audio", __name__)


@bp.get("/audio/<language>/<path:name>")
def audio(language: str, name: str) -> Response:
    """Recorded prompts for languages Twilio cannot speak (public: prompts are not personal data)."""
    if not language.isalpha() or len(language) > 3:
        abort(404)
    return send_from_directory(AUDIO_DIR / language, name, mimetype="audio/mpeg")

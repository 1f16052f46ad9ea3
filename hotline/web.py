"""Small Flask glue shared by the blueprints."""

from __future__ import annotations

from flask import Response, current_app
from twilio.twiml import TwiML

from hotline.runtime import Runtime


def current_runtime() -> Runtime:
    """The Runtime of the app handling this request."""
    runtime: Runtime = current_app.extensions["hotline"]
    return runtime


def twiml(document: TwiML, status: int = 200) -> Response:
    """A TwiML document as an HTTP response."""
    return Response(str(document), status=status, mimetype="text/xml")

"""Small Flask glue shared by the blueprints."""

from __future__ import annotations

from flask import Flask, Request, Response, current_app
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from twilio.twiml import TwiML

from hotline.runtime import Runtime


def current_runtime() -> Runtime:
    """The Runtime of the app handling this request."""
    runtime: Runtime = current_app.extensions["hotline"]
    return runtime


def twiml(document: TwiML | str, status: int = 200) -> Response:
    """A TwiML document (or its text) as an HTTP response."""
    return Response(str(document), status=status, mimetype="text/xml")


class StaffSessions(SecureCookieSessionInterface):
    """The signed cookie session is the staff console's. Twilio's webhooks (/twilio/) never carry that cookie and
    never use a session, so for them none is opened: no serializer built, no cookie read, none written."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith("/twilio/"):
            return self.make_null_session(app)
        return super().open_session(app, request)

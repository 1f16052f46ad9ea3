"""Roster calendars (iCalendar) for one advisor, one team or the whole hotline, at unguessable URLs.

A feed URL is `/calendar/<kind>-<id>-<mac>.ics`, where `mac` is the first 32 hex digits of
HMAC-SHA256(key, "<kind>:<id>") and the key is HOTLINE_SECRET_KEY (in the offline demo without one: the demo
signing secret). Nothing is stored: the URL proves itself, and changing the key retires every URL handed out.
Calendar apps cannot sign requests, so the URL is the credential: the route is not under /twilio/ and needs no
Twilio signature. Every wrong token gives the same 404, so it does not tell which part was wrong.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from flask import Blueprint, Response, abort
from sqlalchemy.exc import SQLAlchemyError

from hotline.services import rosters
from hotline.services.links import ALL_ID, parse_token
from hotline.web import current_runtime
from routing.ical import feed
from routing.roster import Roster

log = logging.getLogger(__name__)

bp = Blueprint("calendar", __name__)

DAYS_BACK = 30
DAYS_AHEAD = 90


def _exists(roster: Roster, kind: str, ident: str) -> bool:
    if kind == "advisor":
        return roster.has_advisor(ident)
    if kind == "team":
        return any(team.id == ident for team in roster.teams)
    return ident == ALL_ID


@bp.get("/calendar/<token>.ics")
def calendar(token: str) -> Response:
    """The shifts from 30 days back to 90 days ahead, as worked after overrides."""
    runtime = current_runtime()
    parsed = parse_token(runtime, token)
    if parsed is None:
        abort(404)
    kind, ident = parsed
    try:
        with runtime.sessions() as session:
            roster = rosters.current_roster(session)
    except SQLAlchemyError as exc:
        log.error("calendar feed: database unavailable (%s)", type(exc).__name__)
        abort(503)
    if roster is None or not _exists(roster, kind, ident):
        abort(404)  # a valid token for an advisor or team no longer in the roster
    now = datetime.now(UTC).replace(microsecond=0)
    body = feed(
        roster,
        now - timedelta(days=DAYS_BACK),
        now + timedelta(days=DAYS_AHEAD),
        advisor_id=ident if kind == "advisor" else None,
        team=ident if kind == "team" else None,
        stamp=now,
        service_name=runtime.settings.file.service.name,
    )
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = f'inline; filename="vagtplan-{ident}.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response

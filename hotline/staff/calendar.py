"""Roster calendars (iCalendar) for one advisor, one team or the whole hotline, at unguessable URLs.

A feed URL is `/calendar/<kind>-<id>-<mac>.ics`, where `mac` is the first 32 hex digits of
HMAC-SHA256(key, "<kind>:<id>") and the key is HOTLINE_SECRET_KEY (in the offline demo without one: the demo
signing secret), with ":v<N>" after the id once the feed has been revoked (hotline.services.links). Changing the
key retires every URL handed out.
Calendar apps cannot sign requests, so the URL is the credential: the route is not under /twilio/ and needs no
Twilio signature. At every request the URL is checked against the database, not only against its signature: it
must be signed at the feed's current version (`hotline roster revoke-feed` raises it, see
hotline.services.links), and an advisor's feed stops while the advisor is inactive or gone from the roster in
force. Every refusal gives the same 404 with one short Danish explanation, so it does not tell which part was
wrong; it is logged with its cause and the feed's kind, never the id or the URL.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from flask import Blueprint, Response, abort
from sqlalchemy.exc import SQLAlchemyError

from hotline.services import rosters
from hotline.services.links import ALL_ID, IDENT, check_feed, parse_token
from hotline.web import current_runtime
from routing.ical import feed
from routing.roster import Roster
from routing.wording.catalogue import da

log = logging.getLogger(__name__)

bp = Blueprint("calendar", __name__)

DAYS_BACK = 30
DAYS_AHEAD = 90


def _exists(roster: Roster, kind: str, ident: str) -> bool:
    if kind == "advisor":
        return roster.has_advisor(ident) and roster.advisor(ident).active
    if kind == "team":
        return any(team.id == ident for team in roster.teams)
    return ident == ALL_ID


def _refused(cause: str, kind: str | None) -> Response:
    log.warning("calendar feed refused: %s", cause, extra={"feed_kind": kind or "-"})
    text = f"{da('staff.gone.title')}. {da('calendar.gone')}\n"
    response = Response(text, status=404, content_type="text/plain; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/calendar/<token>.ics")
def calendar(token: str) -> Response:
    """The shifts from 30 days back to 90 days ahead, as worked after overrides."""
    runtime = current_runtime()
    shape = parse_token(runtime, token, version=None)
    if shape is None or not IDENT.fullmatch(shape[1]):
        return _refused("malformed", None)
    try:
        with runtime.sessions() as session:
            parsed = check_feed(session, runtime, token)
            roster = rosters.current_roster(session) if parsed is not None else None
    except SQLAlchemyError as exc:
        log.error("calendar feed: database unavailable (%s)", type(exc).__name__)
        abort(503)
    if parsed is None:
        return _refused("signature or version", shape[0])  # forged, or revoked by a newer version
    kind, ident = parsed
    if roster is None or not _exists(roster, kind, ident):
        return _refused("not active in the roster", kind)  # genuine, but for someone inactive or removed
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

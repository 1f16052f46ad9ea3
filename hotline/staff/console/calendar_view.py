"""The coverage calendar (/console/calendar/): who is on call by layer, week by week or month by month, with the
gaps, clock changes and holidays; the chain preview for any instant (what `hotline oncall --at` prints); the
calendar feed (iCal) links.

Thin: the calendar's data is `routing.coverage_calendar.build_calendar` on the roster in force
(`services.rosters.current_roster`, parsed once per version), the chain is `services.oncall.chain_at` (the
command's own call), the links are `services.links`. A page costs one small statement for the roster version,
whatever the number of advisors or days; the feeds page one more for the links' versions. Advisors, managers
and admins may read it all; only managers and admins see the links of others. Revoking a link stays in the CLI.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import cast

from flask import Blueprint, render_template, request
from flask_babel import format_date, gettext

from hotline.services import rosters
from hotline.services.links import ALL_ID, current_feed_urls
from hotline.services.oncall import chain_at, coverage_hours
from hotline.services.staff_accounts import Role
from hotline.staff.console.identity import login_required, roles_required, signed_in
from hotline.web import current_runtime
from routing.chain import Reason
from routing.coverage_calendar import CoverageCalendar, cached_calendar, month_range, week_range
from routing.roster import Roster
from routing.wallclock import COPENHAGEN, wall_to_utc
from routing.wording.catalogue import known

log = logging.getLogger(__name__)

bp = Blueprint("calendar", __name__, url_prefix="/calendar")

READERS = (Role.ADVISOR, Role.MANAGER, Role.ADMIN)
MANAGERS = (Role.MANAGER, Role.ADMIN)
VIEWS = ("week", "month")
REASONS: tuple[Reason, ...] = ("acute", "question")
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)  # far enough; keeps date arithmetic in range


@bp.context_processor
def _calendar_values() -> dict[str, object]:
    return {"weekday_name": _weekday_name}


def _weekday_name(weekday: int) -> str:
    """The weekday's name in the reader's language ("søndag"), from Babel's locale data."""
    return str(format_date(date(2024, 1, 1) + timedelta(days=weekday), "EEEE"))


def _today() -> date:
    return datetime.now(COPENHAGEN).date()


def _parse_date(value: str | None) -> date | None:
    """An ISO date from a form, or None when it is not one (or outside the years the calendar shows)."""
    try:
        parsed = date.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return parsed if EARLIEST <= parsed <= LATEST else None


def _parse_time(value: str | None) -> time | None:
    try:
        parsed = time.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return None if parsed.tzinfo is not None else parsed.replace(second=0, microsecond=0)


def _step(view: str, first: date, forward: bool) -> date:
    if view == "week":
        return first + timedelta(days=7 if forward else -7)
    if forward:
        return month_range(first)[1] + timedelta(days=1)
    return month_range(first - timedelta(days=1))[0]


@bp.get("/")
@login_required
@roles_required(*READERS)
def index() -> tuple[str, int]:
    """The week (default: this week, Monday to Sunday) or month around `date`."""
    view = request.args.get("view", "week")
    errors: list[str] = []
    if view not in VIEWS:
        view = "week"
        errors.append(gettext("console.calendar.error.view"))
    asked = request.args.get("date")
    day = _today() if not asked else _parse_date(asked)
    if day is None:
        errors.append(gettext("console.calendar.error.date", earliest=EARLIEST.year, latest=LATEST.year))
        day = _today()
    first, last = week_range(day) if view == "week" else month_range(day)
    runtime = current_runtime()
    with runtime.console_sessions() as db:
        roster = rosters.current_roster(db)
    calendar: CoverageCalendar | None = None
    if roster is not None:
        calendar = cached_calendar(roster, first, last, coverage_hours(runtime.settings))
    previous, following = _step(view, first, False), _step(view, first, True)
    return render_template(
        "console/calendar.html",
        view=view,
        day=day,
        first=first,
        last=last,
        calendar=calendar,
        today=_today(),
        week_number=first.isocalendar().week,
        previous=previous if previous >= EARLIEST else None,
        following=following if following <= LATEST else None,
        errors=errors,
    ), (400 if errors else 200)


@dataclass(frozen=True)
class Preview:
    lines: list[str]
    command: str
    shifted: str | None  # the wall-clock time asked for, when it does not exist (the spring gap)


@bp.get("/preview")
@login_required
@roles_required(*READERS)
def preview() -> tuple[str, int]:
    """The chain for a call at a Copenhagen date and time: the lines `hotline oncall --at` prints."""
    settings = current_runtime().settings
    enabled = list(settings.file.languages.enabled)
    default_language = settings.file.languages.default
    args = request.args
    asked = "date" in args or "time" in args
    errors: list[str] = []
    day = _parse_date(args.get("date")) if asked else None
    at = _parse_time(args.get("time")) if asked else None
    reason = args.get("reason", "acute")
    language = args.get("language", default_language)
    if asked and day is None:
        errors.append(gettext("console.calendar.error.date", earliest=EARLIEST.year, latest=LATEST.year))
    if asked and at is None:
        errors.append(gettext("console.calendar.error.time"))
    if reason not in REASONS:
        errors.append(gettext("console.calendar.error.reason"))
        reason = "acute"
    if language not in enabled:
        errors.append(gettext("console.calendar.error.language", languages=", ".join(enabled)))
        language = default_language
    result: Preview | None = None
    roster: Roster | None = None
    if asked and not errors and day is not None and at is not None:
        with current_runtime().console_sessions() as db:
            roster = rosters.current_roster(db)
        if roster is not None:
            instant = wall_to_utc(day, at)  # as the command reads a time without an offset
            chain = chain_at(roster, settings, at=instant, reason=cast(Reason, reason), language=language)
            local = instant.astimezone(COPENHAGEN)
            shifted = f"{at:%H:%M}" if (local.date(), local.time()) != (day, at) else None
            result = Preview(
                lines=[line.strip() for line in chain.explain()],
                command=f"hotline oncall --at {day.isoformat()}T{at:%H:%M} --reason {reason} "
                f"--language {language}",
                shifted=shifted,
            )
    languages = [(code, f"language.{code}" if known(f"language.{code}") else None) for code in enabled]
    return render_template(
        "console/calendar_preview.html",
        day=(day or _today()).isoformat() if asked else _today().isoformat(),
        time=f"{at:%H:%M}"
        if at is not None
        else (args.get("time") or datetime.now(COPENHAGEN).strftime("%H:%M")),
        reason=reason,
        language=language,
        languages=languages,
        reasons=REASONS,
        errors=errors,
        result=result,
        no_roster=asked and not errors and roster is None,
    ), (400 if errors else 200)


@dataclass(frozen=True)
class Feed:
    kind: str
    ident: str
    name: str
    url: str | None  # None: an inactive advisor has no working feed


@bp.get("/feeds")
@login_required
@roles_required(*READERS)
def feeds() -> str:
    """The calendar feed URLs: every advisor's, each team's and the whole hotline's for managers and admins; an
    advisor sees their own."""
    user = signed_in()
    runtime = current_runtime()
    manager = user.role in MANAGERS
    own = user.identity.advisor_id
    listed: list[Feed] = []
    unavailable = False
    with runtime.console_sessions() as db:
        roster = rosters.current_roster(db)
        if roster is not None:
            wanted: list[tuple[str, str, str, bool]] = [
                ("advisor", a.id, a.name, a.active) for a in roster.advisors if manager or a.id == own
            ]
            if manager:
                wanted += [("team", t.id, t.name, True) for t in roster.teams]
                wanted += [("all", ALL_ID, "", True)]
            try:
                urls = current_feed_urls(db, runtime, [(k, i) for k, i, _, active in wanted if active])
            except RuntimeError:  # live mode without HOTLINE_SECRET_KEY: no feed can be signed
                urls, unavailable = {}, True
            listed = [Feed(k, i, name, urls.get((k, i))) for k, i, name, _ in wanted]
    log.info("console: calendar feeds listed", extra={"feeds": len(listed)})
    return render_template(
        "console/calendar_feeds.html",
        manager=manager,
        advisors=[f for f in listed if f.kind == "advisor"],
        teams=[f for f in listed if f.kind == "team"],
        everyone=next((f for f in listed if f.kind == "all"), None),
        no_roster=roster is None,
        unavailable=unavailable,
        own=own,
    )

"""The roster editor, for managers and admins: advisors, weekly patterns, dated overrides (sick leave, cover,
extra shifts) and the holiday rule, changed in the browser with the roster file's own rules.

Every change goes the same way: the form's values are put into the roster file's data (routing.roster_edits),
the loader judges the result (problems re-render the form in Danish, nothing saved), a preview shows what changes
in the next 14 days and warns about new gaps, nights without a language and overlapping overrides
(routing.roster_diff, routing.roster_warnings), and only "Gem" saves it, as a new roster version
(services.roster_changes, all or nothing, audited). The proposed roster travels in the preview's form (`draft`),
so a manager can add another change to it (cover for a sick advisor) before saving both at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from babel.dates import get_day_names
from flask import Blueprint, abort, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from hotline.db.models import utcnow
from hotline.services import roster_changes, roster_requests, rosters, staff_accounts
from hotline.services.oncall import coverage_hours
from hotline.services.staff_accounts import Role
from hotline.staff.console.i18n import chosen_language
from hotline.staff.console.identity import login_required, roles_required, signed_in
from hotline.web import current_runtime
from routing.holiday_rule import DAY_NAMES
from routing.roster import Layer, Roster
from routing.roster_diff import DayChanges, changes, period
from routing.roster_edits import (
    AdvisorInput,
    HolidayInput,
    OverrideInput,
    Proposal,
    ShiftInput,
    add_override,
    add_shift,
    propose,
    put_advisor,
    refused,
    remove_override,
    remove_shift,
    set_holidays,
    start_from,
)
from routing.roster_file import RosterFileError, load_roster
from routing.roster_warnings import day_words, span_words, warning_period, warnings
from routing.wallclock import COPENHAGEN, local_date
from routing.wording.catalogue import Ref, default_catalogue

log = logging.getLogger(__name__)

bp = Blueprint("roster", __name__, url_prefix="/roster")
MANAGERS = (Role.MANAGER, Role.ADMIN)
PREVIEW_DAYS = 14

ADVISOR_FIELDS = {k: k for k in ("id", "name", "phone", "languages", "skills", "team", "active")}
SHIFT_FIELDS = {"advisor": "advisor", "days": "days", "start": "start", "end": "end"}
OVERRIDE_FIELDS = {
    "off": "advisor",
    "add": "advisor",
    "with": "advisor",
    "replace": "replaces",
    "layer": "layer",
    "from": "from_date",
    "to": "to_date",
    "reason": "reason",
}
HOLIDAY_FIELDS = {"use": "use", "include_optional": "include_optional", "extra_dates": "extra_dates"}


def roster_words() -> dict[str, object]:
    """What the roster pages' templates use besides `_`: catalogue messages the core hands over, spans and
    weekdays in the reader's language (registered on each roster blueprint, not app-wide)."""
    return {
        "say": say,
        "span": lambda a, z: span_words(a, z, chosen_language()),
        "local": local,
        "weekday": weekday,
        "dayname": lambda d: day_words(d, chosen_language()),
    }


def weekday(day: int) -> str:
    """The weekday's name (0 = Monday) in the reader's language, from the Unicode CLDR (through Babel)."""
    return str(get_day_names("wide", locale=chosen_language())[day])


bp.context_processor(roster_words)


def say(words: Ref) -> str:
    """A catalogue message (as the core hands it over) in the reader's language."""
    return default_catalogue().text(words.message_id, chosen_language(), **words.values)


def local(moment: datetime, pattern: str = "%d/%m/%Y %H:%M") -> str:
    return moment.astimezone(COPENHAGEN).strftime(pattern)


# --- where a change starts from --------------------------------------------------------------------------------


def current(db: Session) -> tuple[Roster, int | None]:
    """The roster in force (an empty one before the first import) and its version id."""
    version = rosters.current_version(db)
    roster = rosters.current_roster(db) if version is not None else None
    return roster or Roster(), version.id if version is not None else None


def version_number(text: str) -> int | None:
    """A roster version id as a form or URL carries it; None when it is none ("²" is a digit to `isdigit`)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 12 else None


def _base() -> tuple[Roster, Roster, int | None, str]:
    """(the roster in force, the roster this change starts from, the version it was previewed on, the draft).

    The draft is a change previewed but not saved yet; the next change is made on top of it."""
    with current_runtime().console_sessions() as db:
        live, live_version = current(db)
    draft = request.form.get("draft", "")
    if not draft:
        return live, live, live_version, ""
    try:
        on_top = load_roster(draft)
    except RosterFileError:
        abort(400)
    return live, on_top, version_number(request.form.get("base", "")), draft


def _choices(roster: Roster) -> dict[str, Any]:
    return {
        "advisors": [a for a in roster.advisors],
        "layers": list(Layer),
        "days": list(DAY_NAMES),
        "teams": list(roster.teams),
    }


# --- the overview ------------------------------------------------------------------------------------------------


@bp.get("/")
@login_required
@roles_required(*MANAGERS)
def index() -> str:
    now = utcnow()
    with current_runtime().console_sessions() as db:
        roster, version_id = current(db)
        version = rosters.current_version(db)
        accounts = {a.advisor_id: a.username for a in staff_accounts.accounts(db) if a.advisor_id}
        waiting = len(roster_requests.pending(db))
        imported = (version.imported_by, local(version.imported_at)) if version else None
    overrides = [(i, o) for i, o in enumerate(roster.overrides) if o.end > now - timedelta(days=1)]
    shifts = {layer: [s for s in roster.shifts if s.layer is layer] for layer in Layer}
    return render_template(
        "console/roster.html",
        roster=roster,
        version_id=version_id,
        imported=imported,
        accounts=accounts,
        shifts=shifts,
        overrides=overrides,
        waiting=waiting,
        saved=version_id is not None and version_number(request.args.get("saved", "")) == version_id,
        stale=request.args.get("stale") == "1",
    )


# --- the forms --------------------------------------------------------------------------------------------------


def _form_page(
    template: str,
    roster: Roster,
    values: Mapping[str, Any],
    *,
    base: int | None,
    draft: str,
    proposal: Proposal | None = None,
    **extra: Any,
) -> tuple[str, int] | str:
    page = render_template(
        template,
        values=values,
        base="" if base is None else base,
        draft=draft,
        proposal=proposal,
        **_choices(roster),
        **extra,
    )
    return (page, 400) if proposal is not None else page


def _opening() -> bool:
    """A form opened from a preview (carrying its draft), not submitted."""
    return request.method == "GET" or request.form.get("step") == "open"


@bp.route("/advisors/new", methods=["GET", "POST"])
@bp.route("/advisors/<advisor_id>", methods=["GET", "POST"])
@login_required
@roles_required(*MANAGERS)
def advisor(advisor_id: str | None = None) -> tuple[str, int] | str:
    live, roster, base, draft = _base()
    if advisor_id is not None and not roster.has_advisor(advisor_id):
        abort(404)
    if _opening():
        values: dict[str, Any] = {"active": True, "languages": "da"}
        if advisor_id is not None:
            a = roster.advisor(advisor_id)
            values = {
                "id": a.id,
                "name": a.name,
                "phone": a.phone,
                "languages": ", ".join(a.languages),
                "skills": ", ".join(a.skills),
                "team": a.team,
                "active": a.active,
            }
        return _form_page(
            "console/roster_advisor.html", roster, values, base=base, draft=draft, advisor_id=advisor_id
        )
    form = request.form
    entered = AdvisorInput(
        id=form.get("id", ""),
        name=form.get("name", ""),
        phone=form.get("phone", ""),
        languages=form.get("languages", ""),
        skills=form.get("skills", ""),
        team=form.get("team", ""),
        active=form.get("active") == "on",
    )
    data, path = put_advisor(start_from(roster), entered, existing=advisor_id)
    proposal = propose(data, path, ADVISOR_FIELDS)
    if not proposal.ok:
        return _form_page(
            "console/roster_advisor.html",
            roster,
            {**form.to_dict(), "active": entered.active},
            base=base,
            draft=draft,
            proposal=proposal,
            advisor_id=advisor_id,
        )
    return preview(live, proposal, base)


@bp.route("/shifts/new", methods=["GET", "POST"])
@login_required
@roles_required(*MANAGERS)
def shift() -> tuple[str, int] | str:
    live, roster, base, draft = _base()
    if _opening():
        values = {"layer": "primary", "start": "22:00", "end": "07:00", "days": []}
        return _form_page("console/roster_shift.html", roster, values, base=base, draft=draft)
    form = request.form
    entered = ShiftInput(
        layer=form.get("layer", ""),
        advisor=form.get("advisor", ""),
        days=tuple(d for d in form.getlist("days") if d in DAY_NAMES),
        start=form.get("start", ""),
        end=form.get("end", ""),
    )
    data, path = add_shift(start_from(roster), entered)
    proposal = propose(data, path, SHIFT_FIELDS)
    if not proposal.ok:
        values = {**form.to_dict(), "days": list(entered.days)}
        return _form_page(
            "console/roster_shift.html", roster, values, base=base, draft=draft, proposal=proposal
        )
    return preview(live, proposal, base)


@bp.post("/shifts/<layer>/<int:index>/remove")
@login_required
@roles_required(*MANAGERS)
def remove_shift_view(layer: str, index: int) -> tuple[str, int] | str:
    live, roster, base, _ = _base()
    try:
        data = remove_shift(start_from(roster), layer, index)
    except (IndexError, KeyError):
        abort(404)
    return preview(live, propose(data), base)


def _tonight() -> tuple[date, date]:
    today = local_date(utcnow())
    return today, today + timedelta(days=1)


@bp.route("/overrides/new", methods=["GET", "POST"])
@login_required
@roles_required(*MANAGERS)
def override() -> tuple[str, int] | str:
    live, roster, base, draft = _base()
    if _opening():
        first, second = _tonight()
        source = request.args if request.method == "GET" else request.form
        values = {
            "kind": source.get("kind", "off"),
            "advisor": source.get("advisor", ""),
            "replaces": source.get("replaces", ""),
            "layer": "",
            "from_date": first.isoformat(),
            "from_time": "22:00",
            "to_date": second.isoformat(),
            "to_time": "07:00",
            "reason": "",
        }
        return _form_page("console/roster_override.html", roster, values, base=base, draft=draft)
    form = request.form
    entered = OverrideInput(
        kind=form.get("kind", ""),
        advisor=form.get("advisor", ""),
        replaces=form.get("replaces", ""),
        layer=form.get("layer", ""),
        start=f"{form.get('from_date', '')} {form.get('from_time', '')}".strip(),
        end=f"{form.get('to_date', '')} {form.get('to_time', '')}".strip(),
        reason=form.get("reason", ""),
    )
    data, path = add_override(start_from(roster), entered)
    proposal = propose(data, path, OVERRIDE_FIELDS)
    if not proposal.ok:
        return _form_page(
            "console/roster_override.html", roster, form.to_dict(), base=base, draft=draft, proposal=proposal
        )
    return preview(live, proposal, base)


@bp.post("/overrides/<int:index>/remove")
@login_required
@roles_required(*MANAGERS)
def remove_override_view(index: int) -> tuple[str, int] | str:
    live, roster, base, _ = _base()
    try:
        data = remove_override(start_from(roster), index)
    except IndexError:
        abort(404)
    return preview(live, propose(data), base)


@bp.route("/holidays", methods=["GET", "POST"])
@login_required
@roles_required(*MANAGERS)
def holidays() -> tuple[str, int] | str:
    live, roster, base, draft = _base()
    rule = roster.holiday_rule
    if _opening():
        values = {
            "use": rule.use_name,
            "include_optional": rule.include_optional,
            "extra_dates": ", ".join(d.isoformat() for d in rule.extra_dates),
        }
        return _form_page("console/roster_holidays.html", roster, values, base=base, draft=draft)
    form = request.form
    entered = HolidayInput(
        use=form.get("use", ""),
        include_optional=form.get("include_optional") == "on",
        extra_dates=form.get("extra_dates", ""),
    )
    data, path = set_holidays(start_from(roster), entered)
    proposal = propose(data, path, HOLIDAY_FIELDS)
    if not proposal.ok:
        values = {**form.to_dict(), "include_optional": entered.include_optional}
        return _form_page(
            "console/roster_holidays.html", roster, values, base=base, draft=draft, proposal=proposal
        )
    return preview(live, proposal, base)


# --- preview and save -------------------------------------------------------------------------------------------


def what_changes(live: Roster, proposed: Roster) -> tuple[list[DayChanges], list[str]]:
    """What `proposed` changes against `live` in the next PREVIEW_DAYS days, day by day, and its warnings in the
    reader's language: what a manager sees before saving a change or approving a request."""
    now = utcnow()
    start, end = period(now, PREVIEW_DAYS)
    look_from, look_to = warning_period(live, proposed, now, PREVIEW_DAYS)
    found = warnings(live, proposed, look_from, look_to, coverage_hours(current_runtime().settings))
    return changes(live, proposed, start, end), [w.words(chosen_language()) for w in found]


def preview(live: Roster, proposal: Proposal, base: int | None, *, note: str = "") -> tuple[str, int] | str:
    """The preview of a proposed roster against the one in force: what changes in the next 14 days, and the
    warnings; or, when the loader refuses it, the problems (a change removing something rarely fails, but the
    file as a whole is judged again)."""
    if proposal.roster is None:
        return render_template("console/roster_refused.html", proposal=proposal), 400
    days, said = what_changes(live, proposal.roster)
    return render_template(
        "console/roster_preview.html",
        days=days,
        warnings=said,
        draft=proposal.text,
        base="" if base is None else base,
        note=note,
        advisors=proposal.roster.advisors,
    )


@bp.post("/save")
@login_required
@roles_required(*MANAGERS)
def save() -> BaseResponse | tuple[str, int]:
    user = signed_in()
    draft = request.form.get("draft", "")
    note = request.form.get("note", "")[:60]
    try:
        with current_runtime().console_sessions.begin() as db:
            version, _ = roster_changes.save(
                db,
                draft,
                base_version=version_number(request.form.get("base", "")),
                actor=user.identity.username,
                account_id=user.identity.account_id,
                note=note,
                remote_addr=request.remote_addr,
            )
            version_id = version.id
    except roster_changes.StaleDraft:
        return redirect(url_for("console.roster.index", stale=1))
    except RosterFileError as exc:
        proposal = refused(draft, exc.problems)
        return render_template("console/roster_refused.html", proposal=proposal), 400
    log.info("console: roster saved", extra={"version": version_id})
    return redirect(url_for("console.roster.index", saved=version_id))

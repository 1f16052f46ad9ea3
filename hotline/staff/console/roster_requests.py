"""Shift swaps and "take a shift": an advisor asks (the one roster page advisors may use: they see and make
their own requests), a manager approves (the request becomes a `replace` override in a new roster version, after
the same preview and warnings as any change) or rejects it with a reason. Every step is in the audit log."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from hotline.db.models import RosterRequest, utcnow
from hotline.services import audit, roster_changes, roster_requests
from hotline.services.roster_requests import State
from hotline.staff.console.identity import StaffUser, login_required, roles_required, signed_in
from hotline.staff.console.roster_editor import MANAGERS, current, roster_words, what_changes
from hotline.web import current_runtime
from routing.roster import Roster
from routing.roster_edits import Proposal, add_override, propose, start_from
from routing.roster_file import RosterFileError
from routing.roster_swaps import OfferedShift, RequestKind, cover_input, shifts_of

bp = Blueprint("roster_requests", __name__, url_prefix="/roster/requests")
bp.context_processor(roster_words)
OFFER_DAYS = 28


def _record(db: Session, user: StaffUser, subject: str, detail: str, action: audit.Action) -> None:
    audit.record(
        db,
        actor=user.identity.username,
        action=action,
        account_id=user.identity.account_id,
        subject=subject,
        detail=detail,
        remote_addr=request.remote_addr,
    )


def _offers(roster: Roster, advisor_id: str) -> tuple[list[OfferedShift], list[OfferedShift]]:
    """(the advisor's own shifts to swap away, colleagues' shifts to take) over the next four weeks."""
    now = utcnow()
    mine = shifts_of(roster, [advisor_id], now, now + timedelta(days=OFFER_DAYS))
    others = [a.id for a in roster.advisors if a.id != advisor_id and a.active]
    theirs = shifts_of(roster, others, now, now + timedelta(days=OFFER_DAYS))
    return mine, theirs


def _page(problem: str | None = None, status: int = 200) -> tuple[str, int]:
    user = signed_in()
    manager = user.role in MANAGERS
    with current_runtime().console_sessions() as db:
        roster, _ = current(db)
        own = roster_requests.mine(db, user.identity.account_id)
        waiting = roster_requests.pending(db) if manager else []
        done = roster_requests.decided(db) if manager else []
    advisor_id = user.identity.advisor_id
    if advisor_id is not None and not roster.has_advisor(advisor_id):
        advisor_id = (
            None  # an account whose advisor is not (or no longer) in the roster has no shifts to offer
        )
    mine, theirs = _offers(roster, advisor_id) if advisor_id is not None else ([], [])
    colleagues = [a for a in roster.advisors if a.id != advisor_id and a.active]
    names = {a.id: a.name for a in roster.advisors}
    return render_template(
        "console/roster_requests.html",
        advisor_id=advisor_id,
        own=own,
        waiting=waiting,
        done=done,
        mine=mine,
        theirs=theirs,
        colleagues=colleagues,
        names=names,
        manager=manager,
        problem=problem,
        values=request.form if request.method == "POST" else {},
        created=request.args.get("created", ""),
    ), status


@bp.get("/")
@login_required
def index() -> tuple[str, int]:
    return _page()


@bp.post("/")
@login_required
def create() -> BaseResponse | tuple[str, int]:
    """An advisor asks: swap one of my shifts with a colleague, or take a colleague's shift."""
    user = signed_in()
    advisor_id = user.identity.advisor_id
    with current_runtime().console_sessions() as db:
        roster, _ = current(db)
    if advisor_id is None or not roster.has_advisor(advisor_id):
        abort(403)
    mine, theirs = _offers(roster, advisor_id)
    kind = request.form.get("kind", "")
    reason = request.form.get("reason", "").strip()[:300]
    if kind == RequestKind.SWAP:
        shift = next((s for s in mine if s.key == request.form.get("my_shift")), None)
        cover = request.form.get("colleague", "")
        if shift is None:
            return _page("my_shift", 400)
        if cover == advisor_id or not roster.has_advisor(cover) or not roster.advisor(cover).active:
            return _page("colleague", 400)
    elif kind == RequestKind.TAKE:
        shift = next((s for s in theirs if s.key == request.form.get("their_shift")), None)
        cover = advisor_id
        if shift is None:
            return _page("their_shift", 400)
    else:
        return _page("kind", 400)
    with current_runtime().console_sessions.begin() as db:
        made = roster_requests.create(
            db,
            kind=RequestKind(kind),
            account_id=user.identity.account_id,
            shift=shift,
            cover_advisor_id=cover,
            reason=reason,
        )
        made_id = made.id
        _record(db, user, f"roster_request:{made_id}", f"requested: {kind}", audit.Action.CHANGED)
    return redirect(url_for("console.roster_requests.index", created=made_id))


@bp.post("/<int:request_id>/withdraw")
@login_required
def withdraw(request_id: int) -> BaseResponse:
    user = signed_in()
    with current_runtime().console_sessions.begin() as db:
        found = roster_requests.get(db, request_id)
        if found is None or found.requested_by != user.identity.account_id:
            abort(404)
        if found.state == State.REQUESTED:
            roster_requests.decide(found, State.WITHDRAWN, actor=user.identity.username, now=utcnow())
            _record(db, user, f"roster_request:{request_id}", "withdrawn", audit.Action.CHANGED)
    return redirect(url_for("console.roster_requests.index"))


def _proposal(roster: Roster, found: RosterRequest) -> Proposal:
    shift = roster_requests.shift_of(found)
    reason = f"{found.kind} #{found.id}" + (f": {found.reason}" if found.reason else "")
    data, path = add_override(start_from(roster), cover_input(shift, found.cover_advisor_id, reason[:200]))
    return propose(data, path)


@bp.get("/<int:request_id>")
@login_required
@roles_required(*MANAGERS)
def show(request_id: int) -> tuple[str, int] | str:
    with current_runtime().console_sessions() as db:
        found = roster_requests.get(db, request_id)
        if found is None:
            abort(404)
        live, _ = current(db)
        proposal = _proposal(live, found)
        db.expunge(found)
    return _decision_page(found, live, proposal)


def _decision_page(
    found: RosterRequest, live: Roster, proposal: Proposal, problem: str | None = None
) -> tuple[str, int] | str:
    days, said = what_changes(live, proposal.roster) if proposal.roster is not None else ([], [])
    page = render_template(
        "console/roster_request.html",
        found=found,
        names={a.id: a.name for a in live.advisors},
        proposal=proposal,
        days=days,
        warnings=said,
        problem=problem,
    )
    return (page, 400) if problem or proposal.roster is None else page


@bp.post("/<int:request_id>/approve")
@login_required
@roles_required(*MANAGERS)
def approve(request_id: int) -> BaseResponse | tuple[str, int] | str:
    user = signed_in()
    now = utcnow()
    try:
        with current_runtime().console_sessions.begin() as db:
            found = roster_requests.get(db, request_id)
            if found is None:
                abort(404)
            if found.state != State.REQUESTED:
                return redirect(url_for("console.roster_requests.index"))
            live, base = current(db)
            proposal = _proposal(live, found)
            if proposal.roster is None:
                db.expunge(found)
                return _decision_page(found, live, proposal)
            version, _ = roster_changes.save(
                db,
                proposal.text,
                base_version=base,
                actor=user.identity.username,
                account_id=user.identity.account_id,
                note=f"request {request_id} approved",
                remote_addr=request.remote_addr,
            )
            roster_requests.decide(
                found, State.APPROVED, actor=user.identity.username, now=now, version_id=version.id
            )
    except (RosterFileError, roster_changes.StaleDraft):
        return redirect(url_for("console.roster_requests.show", request_id=request_id))
    return redirect(url_for("console.roster_requests.index"))


@bp.post("/<int:request_id>/reject")
@login_required
@roles_required(*MANAGERS)
def reject(request_id: int) -> BaseResponse | tuple[str, int] | str:
    user = signed_in()
    note = request.form.get("note", "").strip()[:300]
    with current_runtime().console_sessions.begin() as db:
        found = roster_requests.get(db, request_id)
        if found is None:
            abort(404)
        if not note:
            live, _ = current(db)
            proposal = _proposal(live, found)
            db.expunge(found)
            return _decision_page(found, live, proposal, problem="note")
        if found.state == State.REQUESTED:
            roster_requests.decide(
                found, State.REJECTED, actor=user.identity.username, now=utcnow(), note=note
            )
            _record(db, user, f"roster_request:{request_id}", f"rejected: {note}"[:300], audit.Action.CHANGED)
    return redirect(url_for("console.roster_requests.index"))

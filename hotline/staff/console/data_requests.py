"""A relative's data, for managers and admins (`/console/gdpr/`): found by phone number, exported as JSON or a zip
of CSVs (hotline.services.subject_access), or erased after a confirmation step (hotline.services.subject_erasure).
Each request is recorded in `data_requests` and the audit log.

Not for the data-protection officer: they check that requests were handled (the audit log shows each export and
erasure, and each view of the relative), but do not handle a relative's data themselves. The number is posted,
never put in a URL; the pages after the search carry the relative's id.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from hotline.db.models import Relative, utcnow
from hotline.services import audit, subject_access, subject_erasure
from hotline.services import timeline as timelines
from hotline.services.pseudonyms import pseudonym_key
from hotline.services.staff_accounts import Role
from hotline.staff.console.forms import ConfirmErasureForm, ExportForm, NumberSearchForm
from hotline.staff.console.identity import StaffUser, login_required, roles_required, signed_in
from hotline.web import current_runtime
from routing.numbers import display_number, mask_number, normalize_number
from routing.wallclock import COPENHAGEN

log = logging.getLogger(__name__)

bp = Blueprint("gdpr", __name__)
HANDLERS = (Role.MANAGER, Role.ADMIN)


def _relative(db: Session, relative_id: int) -> Relative:
    relative = timelines.find(db, relative_id)  # unknown, purged or erased: 404
    if relative is None:
        abort(404)
    return relative


def _viewed(db: Session, user: StaffUser, relative_id: int, subject: str) -> None:
    audit.record(
        db,
        actor=user.identity.username,
        action=audit.Action.VIEWED,
        account_id=user.identity.account_id,
        relative_id=relative_id,
        subject=subject,
        remote_addr=request.remote_addr,
    )


@bp.route("/gdpr/", methods=["GET", "POST"])
@login_required
@roles_required(*HANDLERS)
def search() -> BaseResponse | tuple[str, int]:
    form = NumberSearchForm()
    erased = request.args.get("erased", "")
    done = None
    if erased.isdigit():
        done = {"request": int(erased), "queued": request.args.get("queued", "0")}
    if request.method == "GET":
        return render_template("console/gdpr.html", form=form, problem=None, done=done), 200
    number = normalize_number(str(form.number.data)) if form.validate_on_submit() else None
    if number is None:
        return render_template("console/gdpr.html", form=form, problem="not_a_number", done=None), 400
    with current_runtime().console_sessions() as db:
        relative = subject_access.find(db, number)
        found = relative.id if relative is not None else None
    if found is None:
        return render_template(
            "console/gdpr.html", form=form, problem="not_found", masked=mask_number(number), done=None
        ), 404
    return redirect(url_for("console.gdpr.show", relative_id=found))


@bp.get("/gdpr/<int:relative_id>")
@login_required
@roles_required(*HANDLERS)
def show(relative_id: int) -> str:
    """What is held about the relative, counted per table, with the export and erasure buttons."""
    user = signed_in()
    with current_runtime().console_sessions.begin() as db:
        relative = _relative(db, relative_id)
        tables = subject_access.gather(db, relative)
        number = display_number(relative.phone_number)
        _viewed(db, user, relative_id, "gdpr")
    counts = [(name, len(rows)) for name, rows in tables.items()]
    return render_template(
        "console/gdpr_relative.html",
        relative_id=relative_id,
        number=number,
        counts=counts,
        form=ExportForm(),
    )


@bp.post("/gdpr/<int:relative_id>/export")
@login_required
@roles_required(*HANDLERS)
def export(relative_id: int) -> Response:
    form = ExportForm()
    if not form.validate_on_submit() or form.format.data not in ("json", "csv"):
        abort(400)
    fmt = str(form.format.data)
    user = signed_in()
    runtime = current_runtime()
    now = utcnow()
    with runtime.console_sessions.begin() as db:
        relative = _relative(db, relative_id)
        body = subject_access.export(
            db,
            relative,
            fmt=fmt,
            key=pseudonym_key(runtime),
            actor=user.identity.username,
            account_id=user.identity.account_id,
            now=now,
            remote_addr=request.remote_addr,
        )
    log.info("console: a relative's data exported", extra={"relative": relative_id, "format": fmt})
    stamp = now.astimezone(COPENHAGEN).strftime("%Y%m%d-%H%M%S")
    name, mimetype = (
        (f"paaroerende-{relative_id}-{stamp}.json", "application/json")
        if fmt == "json"
        else (f"paaroerende-{relative_id}-{stamp}.zip", "application/zip")
    )
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@bp.route("/gdpr/<int:relative_id>/erase", methods=["GET", "POST"])
@login_required
@roles_required(*HANDLERS)
def erase(relative_id: int) -> BaseResponse | tuple[str, int]:
    """GET: the confirmation page (what will happen); POST with the box ticked: the erasure."""
    user = signed_in()
    runtime = current_runtime()
    form = ConfirmErasureForm()
    problem = None
    if request.method == "POST":
        if not form.validate_on_submit():
            problem = "console.gdpr.error.confirm"
        else:
            try:
                with runtime.console_sessions.begin() as db:  # refused: rolled back, nothing changed
                    erased = subject_erasure.erase(
                        db,
                        _relative(db, relative_id),
                        key=pseudonym_key(runtime),
                        actor=user.identity.username,
                        account_id=user.identity.account_id,
                        now=utcnow(),
                        remote_addr=request.remote_addr,
                    )
            except subject_erasure.ErasureRefused as error:
                problem = error.message_id
            if problem is None:
                log.info("console: a relative's data erased", extra={"erased": erased.summary()})
                return redirect(
                    url_for("console.gdpr.search", erased=erased.request_id, queued=erased.twilio_queued)
                )
    with runtime.console_sessions.begin() as db:
        relative = _relative(db, relative_id)
        plan = subject_erasure.plan(db, relative)
        number = display_number(relative.phone_number)
        _viewed(db, user, relative_id, "gdpr:erase")
    return render_template(
        "console/gdpr_erase.html",
        relative_id=relative_id,
        number=number,
        plan=plan,
        form=form,
        problem=problem,
    ), (400 if problem else 200)

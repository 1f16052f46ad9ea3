"""Signing in and out of the console, with the audit log's rows for both and for every failed attempt."""

from __future__ import annotations

import logging

from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response as BaseResponse

from hotline import metrics
from hotline.db.models import utcnow
from hotline.db.session import ping
from hotline.services import audit, staff_accounts
from hotline.services.staff_accounts import Outcome
from hotline.staff.console.forms import SignInForm
from hotline.staff.console.identity import (
    begin_session,
    console_path,
    end_session,
    login_required,
    signed_in,
)
from hotline.web import current_runtime
from routing.wallclock import COPENHAGEN

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse | tuple[str, int] | str:
    form = SignInForm()
    if request.method == "GET":
        needed = request.args.get("next") is not None
        return render_template(
            "console/login.html", form=form, problem=None, needed=needed, database_down=_database_down()
        )
    if not form.validate_on_submit():  # a field left empty (the CSRF token was checked before)
        return render_template("console/login.html", form=form, problem="wrong", needed=False), 400
    runtime = current_runtime()
    now = utcnow()
    username = str(form.username.data).strip().lower()
    with runtime.console_sessions.begin() as db:
        result = staff_accounts.sign_in(
            db, username, str(form.password.data), now, runtime.settings.file.console
        )
        action = {
            Outcome.SIGNED_IN: audit.Action.SIGNED_IN,
            Outcome.LOCKED: audit.Action.LOCKED_OUT,
        }.get(result.outcome, audit.Action.SIGN_IN_FAILED)
        audit.record(
            db,
            actor=username,
            action=action,
            account_id=result.account_id,
            detail=None if result.outcome is Outcome.SIGNED_IN else result.outcome.value,
            remote_addr=request.remote_addr,
            at=now,
        )
    if result.identity is None:
        metrics.sign_in_failed(result.outcome.value)
        log.info("console: sign-in refused (%s)", result.outcome.value, extra={"account": result.account_id})
        until = result.locked_until.astimezone(COPENHAGEN).strftime("%H:%M") if result.locked_until else ""
        return render_template(
            "console/login.html", form=form, problem=result.outcome.value, until=until, needed=False
        ), 401
    begin_session(result.identity)
    log.info("console: signed in", extra={"account": result.identity.account_id})
    return redirect(console_path(request.args.get("next")) or url_for("console.home.index"))


def _database_down() -> bool:
    """The sign-in page needs no database to be shown, but signing in does: say so before someone tries."""
    try:
        ping(current_runtime().console_engine)
    except SQLAlchemyError:
        return True
    return False


@bp.post("/logout")
@login_required
def logout() -> BaseResponse:
    user = signed_in()
    with current_runtime().console_sessions.begin() as db:
        audit.record(
            db,
            actor=user.identity.username,
            action=audit.Action.SIGNED_OUT,
            account_id=user.identity.account_id,
            remote_addr=request.remote_addr,
        )
    end_session()
    return redirect(url_for("console.auth.login", signed_out=1))

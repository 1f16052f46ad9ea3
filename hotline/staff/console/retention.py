"""The retention settings, read-only (`/console/retention/`, managers, admins and the data-protection officer):
how long each class of personal data is kept, the nightly purge's next and last run, and Twilio's erasure queue.
The settings themselves are changed in config.yaml (docs/records-of-processing.md)."""

from __future__ import annotations

from flask import Blueprint, render_template

from hotline.db.models import utcnow
from hotline.services.retention_overview import overview
from hotline.services.staff_accounts import Role
from hotline.staff.console.identity import login_required, roles_required
from hotline.web import current_runtime
from routing.wallclock import COPENHAGEN

bp = Blueprint("retention", __name__)


@bp.get("/retention/")
@login_required
@roles_required(Role.MANAGER, Role.ADMIN, Role.DPO)
def index() -> str:
    runtime = current_runtime()
    now = utcnow()
    with runtime.console_sessions() as db:
        found = overview(db, runtime.settings, now)
    return render_template(
        "console/retention.html",
        overview=found,
        next_purge=found.next_purge.astimezone(COPENHAGEN).strftime("%d/%m/%Y %H:%M"),
        running_now=found.next_purge == now,
        last_purge=found.last_purge.astimezone(COPENHAGEN).strftime("%d/%m/%Y %H:%M")
        if found.last_purge
        else None,
    )

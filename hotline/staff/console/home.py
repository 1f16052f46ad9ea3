"""The console's first page: who is signed in, in which role, whether they are on call now, and what waits
(open callbacks, acute ones, theirs; text threads no advisor has answered). The data-protection officer sees
only their links (the audit log, the retention settings)."""

from __future__ import annotations

from flask import Blueprint, render_template

from hotline.db.models import utcnow
from hotline.services.staff_accounts import Role
from hotline.services.workload import workload
from hotline.staff.console.identity import login_required, signed_in
from hotline.web import current_runtime
from routing.wallclock import COPENHAGEN

bp = Blueprint("home", __name__)


def _values() -> dict[str, object]:
    user = signed_in()
    now = utcnow()
    with current_runtime().console_sessions() as session:
        waiting = workload(session, user.identity.advisor_id, now)
    on_call = [
        {"layer": entry.layer.message_id, "until": entry.until.astimezone(COPENHAGEN).strftime("%H:%M")}
        for entry in waiting.on_call
    ]
    return {
        "user": user.identity,
        "waiting": waiting,
        "on_call": on_call,
        "as_of": now.astimezone(COPENHAGEN).strftime("%H:%M"),
    }


@bp.get("/")
@login_required
def index() -> str:
    user = signed_in()
    # The data-protection officer reads: links to the audit log and the retention settings, nothing that waits.
    if user.role is Role.DPO:
        return render_template("console/home.html", user=user.identity)
    return render_template("console/home.html", **_values())


@bp.get("/waiting")
@login_required
def waiting() -> str:
    """The counts alone, for htmx to refresh them every minute (and on the `refresh` event)."""
    return render_template("console/_waiting.html", **_values())

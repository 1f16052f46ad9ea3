"""The staff accounts, for managers and admins: who can sign in, in which role, and whose account is locked or
disabled. Read-only for now; accounts are added and changed with `hotline staff` (docs/console.md)."""

from __future__ import annotations

from flask import Blueprint, render_template

from hotline.db.models import utcnow
from hotline.services import staff_accounts
from hotline.services.staff_accounts import Role
from hotline.staff.console.identity import login_required, roles_required
from hotline.web import current_runtime
from routing.wallclock import COPENHAGEN

bp = Blueprint("accounts", __name__)


@bp.get("/accounts")
@login_required
@roles_required(Role.MANAGER, Role.ADMIN)
def index() -> str:
    now = utcnow()
    with current_runtime().console_sessions() as session:
        rows = [
            {
                "username": account.username,
                "name": account.name,
                "role": Role(account.role).message_id,
                "advisor": account.advisor_id or "",
                "active": account.active,
                "locked_until": (
                    account.locked_until.astimezone(COPENHAGEN).strftime("%H:%M")
                    if account.locked_until is not None and account.locked_until > now
                    else None
                ),
            }
            for account in staff_accounts.accounts(session)
        ]
    return render_template("console/accounts.html", rows=rows)

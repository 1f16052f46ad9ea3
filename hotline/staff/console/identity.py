"""Who is signed in: Flask-Login's user object, how a session names it, and the role check for views.

A session holds `"<account id>:<session epoch>"`. The loader reads the account on every request
(`services.staff_accounts.load`), so an account disabled with `hotline staff disable`, given a new password, or
an advisor made inactive in the roster can do nothing from their next request on.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

import flask_login
from flask import Response, abort, redirect, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user
from werkzeug.wrappers import Response as BaseResponse

from hotline.services import staff_accounts
from hotline.services.staff_accounts import Identity, Role
from hotline.staff.console.i18n import SESSION_KEY
from hotline.web import current_runtime

F = TypeVar("F", bound=Callable[..., Any])


class StaffUser(UserMixin):  # type: ignore[misc]  # flask-login ships no type information
    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    def get_id(self) -> str:
        return f"{self.identity.account_id}:{self.identity.session_epoch}"

    @property
    def role(self) -> Role:
        return self.identity.role


def load_user(user_id: str) -> StaffUser | None:
    account_id, _, epoch = user_id.partition(":")
    if not (account_id.isdigit() and epoch.isdigit()):
        return None
    with current_runtime().console_sessions() as session:
        identity = staff_accounts.load(session, int(account_id), int(epoch))
    return StaffUser(identity) if identity is not None else None


def console_path(target: str | None) -> str | None:
    """`target` when it is a console page on this site (where to go back to after signing in or switching
    language); None for anything else, such as another host or `//evil.example` (no open redirect)."""
    if target and target.startswith("/console/") and "\\" not in target and "//" not in target:
        return target
    return None


def begin_session(identity: Identity) -> None:
    """Sign `identity` in on a new session: nothing carried over from before (session fixation) but the chosen
    language; it ends after `console.session_minutes` without a request."""
    language = session.get(SESSION_KEY)
    session.clear()
    if language:
        session[SESSION_KEY] = language
    session.permanent = True
    flask_login.login_user(StaffUser(identity))


def end_session() -> None:
    language = session.get(SESSION_KEY)
    flask_login.logout_user()
    session.clear()
    if language:
        session[SESSION_KEY] = language


def init_login(app: Any, login_view: str) -> None:
    manager = LoginManager(app)
    manager.login_view = login_view
    manager.login_message = None  # the sign-in page says why itself
    manager.session_protection = (
        "basic"  # "strong" would sign advisors out whenever their phone changes network
    )
    manager.user_loader(load_user)
    manager.unauthorized_handler(lambda: _unauthorized(login_view))


def _unauthorized(login_view: str) -> BaseResponse:
    """Not signed in (or no longer): to the sign-in page. An htmx request gets HX-Redirect, so the whole page goes
    there instead of the sign-in form being swapped into a piece of the page."""
    target = url_for(login_view, next=request.path)
    if request.headers.get("HX-Request"):
        return Response(status=401, headers={"HX-Redirect": target})
    return redirect(target)


def signed_in() -> StaffUser:
    """The signed-in person (only in views behind `login_required`)."""
    return cast(StaffUser, current_user._get_current_object())


def login_required(view: F) -> F:
    """A view for signed-in staff only; anyone else is sent to the sign-in page (Flask-Login's, typed)."""
    return cast(F, flask_login.login_required(view))


# What the data-protection officer (Role.DPO, read-only) may open: the ways in and out, the first page (links
# only), the language switch, the audit log and the retention settings. Every other console endpoint, including
# any added later, answers them 403 (`refuse_read_only_role`, run before every console view).
READ_ONLY_ENDPOINTS = frozenset(
    {
        "console.static",
        "console.language",
        "console.auth.login",
        "console.auth.logout",
        "console.oidc.start",
        "console.oidc.callback",
        "console.home.index",
        "console.audit.index",
        "console.audit.export",
        "console.retention.index",
    }
)


def refuse_read_only_role() -> None:
    """403 for the data-protection officer on every console page but READ_ONLY_ENDPOINTS: deny by default, so a
    page added later is closed to them until it is named there."""
    if request.endpoint in READ_ONLY_ENDPOINTS:
        return  # before looking anyone up: static files and the sign-in page need no database
    if current_user.is_authenticated and signed_in().role is Role.DPO:
        abort(403)


def roles_required(*roles: Role) -> Callable[[F], F]:
    """A view only these roles may use; anyone else gets 403 (signing in is checked before)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if signed_in().role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorate

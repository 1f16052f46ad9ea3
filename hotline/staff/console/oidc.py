"""Sign-in with the municipality's identity provider: OpenID Connect's authorization code flow (Authlib).

`/console/login/oidc` sends the browser to the provider (with state and nonce kept in the session);
`/console/login/oidc/callback` takes the code back, has Authlib fetch the tokens and check the ID token (issuer,
audience, nonce, signature against the provider's published keys), and signs in the staff account whose username
is the configured claim. Nobody is created on the fly: the account must exist and be usable (active, and for an
advisor active in the roster). Configured in `console.oidc` (defaults.yaml) and HOTLINE_OIDC_CLIENT_SECRET.
"""

from __future__ import annotations

import logging
from typing import Any

from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, url_for
from joserfc.errors import JoseError
from requests import RequestException
from werkzeug.wrappers import Response as BaseResponse

from hotline import metrics
from hotline.config.settings import Settings
from hotline.db.models import utcnow
from hotline.services import audit, staff_accounts
from hotline.services.staff_accounts import Outcome
from hotline.staff.console.forms import SignInForm
from hotline.staff.console.identity import begin_session
from hotline.web import current_runtime

log = logging.getLogger(__name__)

bp = Blueprint("oidc", __name__)

EXTENSION = "hotline.oidc"
CALLBACK = "/console/login/oidc/callback"


def init_oidc(app: Flask, settings: Settings) -> None:
    """Register the provider with Authlib when `console.oidc` is set up (else the routes answer 404)."""
    config = settings.file.console.oidc
    if not config.enabled:
        return
    oauth = OAuth(app)
    client = oauth.register(
        "idp",
        overwrite=True,  # everything from our settings, nothing from app.config
        client_id=config.client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=config.metadata_url,
        client_kwargs={
            "scope": config.scopes,
            "default_timeout": 10,
        },  # seconds, for every call to the provider
    )
    app.extensions[EXTENSION] = client


def _client() -> Any:
    client = current_app.extensions.get(EXTENSION)
    if client is None:
        abort(404)
    return client


def _redirect_uri() -> str:
    settings = current_runtime().settings
    if settings.public_url:
        return settings.url(CALLBACK)
    return url_for("console.oidc.callback", _external=True)


@bp.get("/login/oidc")
def start() -> BaseResponse | tuple[str, int]:
    client = _client()
    try:
        response: BaseResponse = client.authorize_redirect(_redirect_uri())
    except (OAuthError, RequestException, ValueError) as error:
        log.warning("console: OpenID Connect provider unavailable (%s)", type(error).__name__)
        return _refused("oidc_failed")
    return response


@bp.get("/login/oidc/callback")
def callback() -> BaseResponse | tuple[str, int]:
    client = _client()
    try:
        token = client.authorize_access_token()
    except (OAuthError, JoseError, RequestException, ValueError) as error:
        # A wrong state or nonce, an ID token that does not verify, a provider that does not answer.
        log.warning("console: OpenID Connect sign-in failed (%s: %s)", type(error).__name__, str(error)[:200])
        return _refused("oidc_failed")
    claims = token.get("userinfo") or {}
    claim = current_runtime().settings.file.console.oidc.username_claim
    username = str(claims.get(claim) or "").strip().lower()
    runtime = current_runtime()
    now = utcnow()
    with runtime.console_sessions.begin() as db:
        result = staff_accounts.sign_in_external(db, username, now)
        audit.record(
            db,
            actor=username or "-",
            action=audit.Action.SIGNED_IN if result.identity else audit.Action.SIGN_IN_FAILED,
            account_id=result.account_id,
            detail="oidc" if result.identity else f"oidc {result.outcome.value}",
            remote_addr=request.remote_addr,
            at=now,
        )
    if result.identity is None:
        log.info("console: OpenID Connect sign-in refused (%s)", result.outcome.value)
        return _refused("oidc_unknown" if result.outcome is Outcome.WRONG else result.outcome.value)
    begin_session(result.identity)
    log.info("console: signed in with OpenID Connect", extra={"account": result.identity.account_id})
    return redirect(url_for("console.home.index"))


def _refused(problem: str) -> tuple[str, int]:
    metrics.sign_in_failed(problem)
    return render_template(
        "console/login.html", form=SignInForm(), problem=problem, until="", needed=False
    ), 401

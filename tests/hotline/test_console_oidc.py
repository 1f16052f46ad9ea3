"""Signing in to the console with OpenID Connect, against a stand-in provider on loopback (tests/oidc_provider.py):
the account the provider vouches for signs in; an unknown or disabled one, a forged ID token or a wrong state
does not. And the settings that switch it on."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from hotline.config.settings import ConfigError, load_settings
from hotline.db.models import AuditEntry
from hotline.services import staff_accounts
from tests.helpers import ALWAYS_ON_CALL, AppFactory, HotlineRunner, add_staff, import_roster
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, OidcProvider


@pytest.fixture
def provider() -> Iterator[OidcProvider]:
    server = OidcProvider().start()
    yield server
    server.stop()


@pytest.fixture
def oidc_app(make_app: AppFactory, provider: OidcProvider) -> Flask:
    app = make_app(
        {"console": {"oidc": {"metadata_url": provider.metadata_url, "client_id": CLIENT_ID}}},
        HOTLINE_OIDC_CLIENT_SECRET=CLIENT_SECRET,
    )
    import_roster(app, ALWAYS_ON_CALL)
    return app


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def via_provider(client: FlaskClient) -> str:
    """Start the sign-in, let the browser visit the provider, and return the path it is sent back to."""
    start = client.get("/console/login/oidc")
    assert start.status_code == 302, start.get_data(as_text=True)
    try:
        urllib.request.build_opener(_NoRedirect).open(start.headers["Location"], timeout=5)
    except urllib.error.HTTPError as answer:
        back = urlsplit(answer.headers["Location"])
        assert back.path == "/console/login/oidc/callback"
        return f"{back.path}?{back.query}"
    raise AssertionError("the provider did not send the browser back")


def test_the_provider_vouches_and_the_account_signs_in(oidc_app: Flask, runner: HotlineRunner) -> None:
    runner.env["HOTLINE_DATABASE_URL"] = oidc_app.extensions["hotline"].settings.database_url
    added = runner.invoke(["staff", "add", "anna@aarhus.dk", "--advisor", "anna", "--no-password"])
    assert added.exit_code == 0, added.output
    client = oidc_app.test_client()
    page = client.get("/console/login").get_data(as_text=True)
    assert 'id="oidc" href="/console/login/oidc">Log ind med Aarhus Kommune</a>' in page
    back = client.get(via_provider(client))
    assert (back.status_code, back.headers["Location"]) == (302, "/console/")
    assert "Hej Anna Prøve" in client.get("/console/").get_data(as_text=True)
    with oidc_app.extensions["hotline"].sessions() as session:
        row = session.scalars(select(AuditEntry)).one()
        assert (row.actor, row.action, row.detail) == ("anna@aarhus.dk", "signed_in", "oidc")
        # No password was given, so none signs in.
        policy = oidc_app.extensions["hotline"].settings.file.console
        assert staff_accounts.sign_in(session, "anna@aarhus.dk", "", row.at, policy).identity is None


def test_someone_without_an_account_here_is_told_so(oidc_app: Flask) -> None:
    client = oidc_app.test_client()
    refused = client.get(via_provider(client))
    assert refused.status_code == 401
    assert "Din konto hos Aarhus Kommune er ikke knyttet til en konto her." in refused.get_data(as_text=True)
    assert client.get("/console/").status_code == 302


def test_a_disabled_account_cannot_sign_in_through_the_provider(oidc_app: Flask) -> None:
    add_staff(oidc_app, "anna@aarhus.dk", advisor_id="anna")
    with oidc_app.extensions["hotline"].sessions.begin() as session:
        staff_accounts.disable(session, "anna@aarhus.dk")
    client = oidc_app.test_client()
    assert "Kontoen er spærret." in client.get(via_provider(client)).get_data(as_text=True)


def test_a_forged_id_token_or_a_wrong_state_is_refused(oidc_app: Flask, provider: OidcProvider) -> None:
    add_staff(oidc_app, "anna@aarhus.dk", advisor_id="anna")
    client = oidc_app.test_client()
    provider.forge = True
    forged = client.get(via_provider(client))
    assert forged.status_code == 401
    assert "Login med Aarhus Kommune lykkedes ikke." in forged.get_data(as_text=True)
    provider.forge = False
    path = via_provider(client)
    other = oidc_app.test_client()  # another browser, which never started this sign-in
    assert other.get(path).status_code == 401
    assert client.get("/console/").status_code == 302


def test_without_oidc_settings_there_is_no_button_and_no_route(app: Flask) -> None:
    client = app.test_client()
    assert 'id="oidc"' not in client.get("/console/login").get_data(as_text=True)
    assert client.get("/console/login/oidc").status_code == 404


@pytest.mark.parametrize(
    ("oidc", "environ", "expected"),
    [
        (
            {"metadata_url": "https://idp.example/.well-known/openid-configuration"},
            {},
            "client_id is missing",
        ),
        (
            {"metadata_url": "not a url", "client_id": "x"},
            {"HOTLINE_OIDC_CLIENT_SECRET": "s"},
            "is not a web address",
        ),
        (
            {"metadata_url": "https://idp.example/m", "client_id": "x"},
            {},
            "HOTLINE_OIDC_CLIENT_SECRET is not set",
        ),
        (
            {"metadata_url": "https://idp.example/m", "client_id": "x", "scopes": "profile"},
            {"HOTLINE_OIDC_CLIENT_SECRET": "s"},
            "scopes must include 'openid'",
        ),
    ],
)
def test_oidc_settings_are_checked_at_start(
    oidc: dict[str, str], environ: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(environ=environ, overrides={"console": {"oidc": oidc}})
    assert expected in "\n".join(raised.value.problems)


def test_a_provider_that_does_not_answer_is_said_plainly(oidc_app: Flask, provider: OidcProvider) -> None:
    provider.stop()
    response = oidc_app.test_client().get("/console/login/oidc")
    assert response.status_code == 401
    assert "Login med Aarhus Kommune lykkedes ikke. Prøv igen om lidt." in response.get_data(as_text=True)

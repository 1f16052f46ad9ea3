"""The staff console's ground: sign-in and sign-out, every route behind a login, CSRF on every form but not on
Twilio's webhooks, roles, the session's end, secure cookies and the strict CSP, the audit log, the first page."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from hotline.db.models import AuditEntry, utcnow
from hotline.services import staff_accounts
from routing.callbacks import Priority
from tests.helpers import (
    ALWAYS_ON_CALL,
    RELATIVE,
    STAFF_PASSWORD,
    TWILIO_ACCOUNT,
    AppFactory,
    TwilioSigner,
    add_staff,
    console_login,
    csrf_token,
    import_roster,
    new_sid,
    register_callback,
    utc,
)

# The ways in, and what every page needs before signing in; everything else requires a signed-in account.
PUBLIC = {
    "console.auth.login",
    "console.oidc.start",
    "console.oidc.callback",
    "console.static",
    "console.language",
}


@pytest.fixture
def staffed(rostered: Flask) -> Flask:
    add_staff(rostered, "anna")
    add_staff(rostered, "carl", role="manager", advisor_id=None)
    return rostered


@pytest.fixture
def anna(staffed: Flask) -> FlaskClient:
    client = staffed.test_client()
    assert console_login(client, "anna").status_code == 302
    return client


def audit_rows(app: Flask) -> list[tuple[str, str, str | None]]:
    with app.extensions["hotline"].sessions() as session:
        return [
            (r.actor, r.action, r.detail) for r in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


def console_routes(app: Flask) -> list[tuple[str, str]]:
    """Every console route but the public ones, as (method, path), from the URL map: a new page cannot be
    forgotten here."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("console.") and rule.endpoint not in PUBLIC:
            path = re.sub(r"<int:\w+>", "1", rule.rule)  # any value will do, of the converter's kind
            path = path.replace("<", "").replace(">", "")
            found += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


def test_the_console_has_routes_to_check(staffed: Flask) -> None:
    assert {("GET", "/console/"), ("POST", "/console/logout"), ("GET", "/console/accounts")} <= set(
        console_routes(staffed)
    )


def test_every_console_route_refuses_anyone_not_signed_in(staffed: Flask) -> None:
    client = staffed.test_client()
    token = csrf_token(client)
    for method, path in console_routes(staffed):
        response = client.open(path, method=method, data={"csrf_token": token})
        assert response.status_code == 302, (method, path)
        assert response.headers["Location"].startswith("/console/login?next="), (method, path)


@time_machine.travel(utc(2026, 11, 3, 14, 0))  # 15:00 in Copenhagen
def test_sign_in_shows_the_first_page_and_is_audited(staffed: Flask) -> None:
    client = staffed.test_client()
    response = console_login(client, "anna")
    assert (response.status_code, response.headers["Location"]) == (302, "/console/")
    page = client.get("/console/").get_data(as_text=True)
    assert '<html lang="da">' in page
    assert "Hej Anna Prøve" in page and "Du er logget ind som rådgiver." in page
    assert "På vagt nu: primær til kl. 07:00." in page  # ALWAYS_ON_CALL: a 24-hour shift from 07:00
    assert audit_rows(staffed)[-1] == ("anna", "signed_in", None)


def test_the_first_page_counts_what_waits(staffed: Flask, twilio: TwilioSigner) -> None:
    runtime = staffed.extensions["hotline"]
    register_callback(runtime, utcnow(), priority=Priority.ACUTE, window="asap")
    register_callback(runtime, utcnow(), number="+4567100002")
    params = {"MessageSid": new_sid("SM"), "AccountSid": "AC" + "0" * 32, "From": "+4567100003"}
    params.update({"To": "+4568000000", "Body": "Hvornår kommer hjemmeplejen?", "NumMedia": "0"})
    assert twilio.post("/twilio/sms", params).status_code == 200
    client = staffed.test_client()
    console_login(client, "anna")
    page = client.get("/console/").get_data(as_text=True)
    assert "2 åbne tilbagekald" in page and "1 akut" in page and "0 tildelt dig" in page
    assert "1 sms-tråd uden svar" in page


def test_a_wrong_password_is_refused_audited_and_locks_after_five(staffed: Flask) -> None:
    client = staffed.test_client()
    for attempt in range(4):
        response = console_login(client, "anna", f"forkert {attempt}")
        assert response.status_code == 401
        assert "Forkert brugernavn eller adgangskode." in response.get_data(as_text=True)
    locked = console_login(client, "anna", "forkert igen")
    assert "For mange forkerte forsøg: kontoen er låst til kl." in locked.get_data(as_text=True)
    assert console_login(client, "anna").status_code == 401  # even the right password, while locked
    assert [action for _, action, _ in audit_rows(staffed)] == ["sign_in_failed"] * 4 + ["locked_out"] * 2


def test_an_unknown_name_gets_the_same_answer_as_a_wrong_password(staffed: Flask) -> None:
    response = console_login(staffed.test_client(), "nobody")
    assert response.status_code == 401
    assert "Forkert brugernavn eller adgangskode." in response.get_data(as_text=True)
    assert audit_rows(staffed) == [("nobody", "sign_in_failed", "wrong")]


def test_sign_out_ends_the_session_and_is_audited(anna: FlaskClient, staffed: Flask) -> None:
    response = anna.post("/console/logout", data={"csrf_token": csrf_token(anna, "/console/")})
    assert response.headers["Location"] == "/console/login?signed_out=1"
    assert "Du er logget ud." in anna.get(response.headers["Location"]).get_data(as_text=True)
    assert anna.get("/console/").status_code == 302
    assert audit_rows(staffed)[-1] == ("anna", "signed_out", None)


@pytest.mark.parametrize("how", ["staff disable", "roster"])
def test_a_disabled_advisor_is_thrown_out_at_the_next_request(
    anna: FlaskClient, staffed: Flask, how: str
) -> None:
    assert anna.get("/console/").status_code == 200
    if how == "roster":
        import_roster(
            staffed, ALWAYS_ON_CALL.replace("languages: [da, en]}", "languages: [da, en], active: false}")
        )
    else:
        with staffed.extensions["hotline"].sessions.begin() as session:
            staff_accounts.disable(session, "anna")
    response = anna.get("/console/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/console/login")
    assert "Kontoen er spærret." in console_login(anna, "anna").get_data(as_text=True)


def test_a_post_without_the_csrf_token_is_refused(anna: FlaskClient) -> None:
    response = anna.post("/console/logout")
    assert response.status_code == 400
    assert "Formularen var for gammel." in response.get_data(as_text=True)
    assert anna.get("/console/").status_code == 200  # still signed in


def test_an_htmx_request_carries_the_token_in_a_header(anna: FlaskClient) -> None:
    token = csrf_token(anna, "/console/")
    response = anna.post("/console/logout", headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert response.status_code == 302


def test_twilio_webhooks_need_no_csrf_token_but_still_their_signature(
    staffed: Flask, twilio: TwilioSigner
) -> None:
    params = {"MessageSid": new_sid("SM"), "AccountSid": "AC" + "0" * 32, "From": RELATIVE}
    params.update({"To": "+4568000000", "Body": "Hej", "NumMedia": "0"})
    assert twilio.post("/twilio/sms", params).status_code == 200
    assert staffed.test_client().post("/twilio/sms", data=params).status_code == 403


def test_a_role_without_permission_gets_403(anna: FlaskClient, staffed: Flask) -> None:
    response = anna.get("/console/accounts")
    assert response.status_code == 403
    assert "Din rolle giver ikke adgang til siden." in response.get_data(as_text=True)
    manager = staffed.test_client()
    console_login(manager, "carl")
    page = manager.get("/console/accounts").get_data(as_text=True)
    assert "Anna Prøve</strong> (anna)" in page and "leder" in page


def test_console_pages_carry_a_strict_csp_and_no_inline_script(anna: FlaskClient) -> None:
    for path in ("/console/", "/console/login"):
        response = anna.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe" not in csp
        assert response.headers["Cache-Control"] == "no-store"
        page = response.get_data(as_text=True)
        assert page.count("<script") == page.count('<script src="/console/static/')
        assert " style=" not in page and "<style" not in page
    with anna.get("/console/static/htmx.min.js") as htmx:
        assert htmx.status_code == 200 and b"htmx" in htmx.data


def test_the_session_cookie_is_httponly_samesite_and_secure_in_live_mode(make_app: AppFactory) -> None:
    demo = make_app()
    add_staff(demo, "carl", role="admin")
    client = demo.test_client()
    cookie = console_login(client, "carl").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    live = make_app(
        TWILIO_ACCOUNT_SID=TWILIO_ACCOUNT,
        TWILIO_AUTH_TOKEN="token",
        HOTLINE_SECRET_KEY="0123456789abcdef" * 4,
        HOTLINE_PUBLIC_URL="https://hotline.example",
    )
    assert live.config["SESSION_COOKIE_SECURE"] is True
    assert live.config["SESSION_COOKIE_HTTPONLY"] is True and live.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_a_session_ends_after_the_configured_minutes_without_a_request(make_app: AppFactory) -> None:
    app = make_app({"console": {"session_minutes": 30}})
    add_staff(app, "carl", role="admin")
    client = app.test_client()
    with time_machine.travel(utcnow(), tick=False) as clock:
        console_login(client, "carl")
        clock.shift(timedelta(minutes=29))
        assert client.get("/console/").status_code == 200  # a request renews the session
        clock.shift(timedelta(minutes=31))
        response = client.get("/console/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/console/login")


def test_the_console_speaks_english_when_asked(anna: FlaskClient) -> None:
    token = csrf_token(anna, "/console/")
    anna.post("/console/language", data={"csrf_token": token, "language": "en", "next": "/console/"})
    page = anna.get("/console/").get_data(as_text=True)
    assert (
        '<html lang="en">' in page and "Hello Anna Prøve" in page and "You are signed in as advisor." in page
    )


def test_the_language_switch_goes_back_only_to_a_console_page(anna: FlaskClient) -> None:
    token = csrf_token(anna, "/console/")
    response = anna.post(
        "/console/language", data={"csrf_token": token, "language": "en", "next": "//evil.example/"}
    )
    assert response.headers["Location"] == "/console/"


def test_with_the_database_down_the_console_says_so(make_app: AppFactory) -> None:
    app = make_app(HOTLINE_DATABASE_URL="postgresql://hotline@127.0.0.1:1/nowhere")
    client = app.test_client()
    assert client.get("/console/login").status_code == 200  # the sign-in page needs no database
    response = client.post(
        "/console/login", data={"username": "anna", "password": "x" * 12, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 503
    assert "Databasen svarer ikke lige nu." in response.get_data(as_text=True)


def test_the_demo_signs_sessions_with_a_key_of_its_own(
    app: Flask, make_app: AppFactory, tmp_path: Path
) -> None:
    """Without HOTLINE_SECRET_KEY the session key comes from the instance's random demo secret: a session cookie
    cannot be forged with a key written in the code."""
    other = make_app({"instance_dir": str(tmp_path / "other-instance")})
    assert len(app.config["SECRET_KEY"]) == 64 and app.config["SECRET_KEY"] != other.config["SECRET_KEY"]
    assert make_app(HOTLINE_SECRET_KEY="0123456789abcdef" * 4).config["SECRET_KEY"] == "0123456789abcdef" * 4


def test_htmx_refreshes_the_counts_and_is_sent_to_sign_in_when_the_session_ended(
    anna: FlaskClient, staffed: Flask
) -> None:
    fragment = anna.get("/console/waiting", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.startswith('<section id="waiting-box"') and "0 åbne tilbagekald" in fragment
    gone = staffed.test_client().get("/console/waiting", headers={"HX-Request": "true"})
    assert (gone.status_code, gone.headers["HX-Redirect"]) == (
        401,
        "/console/login?next=/console/waiting",
    )


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/console/accounts", "/console/accounts"),
        ("https://evil.example/console/", "/console/"),
        ("//evil.example/console/", "/console/"),
        ("/console//evil.example", "/console/"),
        ("/console/\\evil.example", "/console/"),
    ],
)
def test_after_sign_in_only_a_console_page_is_a_way_back(staffed: Flask, target: str, expected: str) -> None:
    client = staffed.test_client()
    data = {"username": "carl", "password": STAFF_PASSWORD, "csrf_token": csrf_token(client)}
    response = client.post("/console/login", query_string={"next": target}, data=data)
    assert response.headers["Location"] == expected


def test_an_empty_field_is_answered_like_a_wrong_password(staffed: Flask) -> None:
    client = staffed.test_client()
    response = client.post(
        "/console/login", data={"username": "anna", "password": "", "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 400
    assert "Forkert brugernavn eller adgangskode." in response.get_data(as_text=True)


def test_webhooks_and_health_checks_get_no_session_cookie(staffed: Flask, twilio: TwilioSigner) -> None:
    """The console's session machinery stays out of what Twilio and the load balancer see."""
    params = {"MessageSid": new_sid("SM"), "AccountSid": "AC" + "0" * 32, "From": RELATIVE}
    params.update({"To": "+4568000000", "Body": "Hej", "NumMedia": "0"})
    assert "Set-Cookie" not in twilio.post("/twilio/sms", params).headers
    assert "Set-Cookie" not in staffed.test_client().get("/healthz").headers

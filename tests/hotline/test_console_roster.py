"""The roster editor in the console (Flask test client): who may use which page, and changes the roster file's
loader refuses re-render the form in Danish with nothing saved."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from hotline.db.models import AuditEntry, RosterRequest, RosterVersion
from hotline.services import rosters
from tests.helpers import DAILY_SHIFTS, add_staff, console_login, csrf_token, import_roster

TWO_COVERS = DAILY_SHIFTS.replace(
    "overrides:\n",
    "overrides:\n"
    '  - {replace: bo, with: anna, from: "2026-12-01 23:00", to: "2026-12-02 07:00", reason: cover}\n',
)


@pytest.fixture
def staffed(app: Flask) -> Flask:
    import_roster(app, TWO_COVERS)
    add_staff(app, "anna")
    add_staff(app, "bo")
    add_staff(app, "mads", role="manager", advisor_id="mads")
    add_staff(app, "root", role="admin", advisor_id=None)
    return app


def _versions(app: Flask) -> int:
    with app.extensions["hotline"].sessions() as db:
        return int(db.scalar(select(func.count()).select_from(RosterVersion)) or 0)


def _signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert console_login(client, username).status_code == 302
    return client


EDITOR_GETS = [
    "/console/roster/",
    "/console/roster/advisors/new",
    "/console/roster/advisors/anna",
    "/console/roster/shifts/new",
    "/console/roster/overrides/new",
    "/console/roster/holidays",
    "/console/roster/versions/",
    "/console/roster/requests/1",
]
EDITOR_POSTS = [
    "/console/roster/advisors/new",
    "/console/roster/overrides/new",
    "/console/roster/shifts/new",
    "/console/roster/shifts/primary/0/remove",
    "/console/roster/overrides/0/remove",
    "/console/roster/holidays",
    "/console/roster/save",
    "/console/roster/versions/1/restore",
    "/console/roster/requests/1/approve",
    "/console/roster/requests/1/reject",
]


def test_an_advisor_gets_403_on_every_editor_and_approve_url(staffed: Flask) -> None:
    client = _signed_in(staffed, "anna")
    token = csrf_token(client, "/console/roster/requests/")
    for path in EDITOR_GETS:
        assert client.get(path).status_code == 403, path
    for path in EDITOR_POSTS:
        answer = client.post(path, data={"csrf_token": token, "draft": DAILY_SHIFTS, "note": "x"})
        assert answer.status_code == 403, path
    assert _versions(staffed) == 1
    page = client.get("/console/roster/requests/").get_data(as_text=True)
    assert ">Vagtbytter<" in page and "/console/roster/" not in page.replace("/console/roster/requests", "")


@pytest.mark.parametrize("username", ["mads", "root"])
def test_managers_and_admins_edit_preview_and_save(staffed: Flask, username: str) -> None:
    client = _signed_in(staffed, username)
    assert client.get("/console/roster/").status_code == 200
    token = csrf_token(client, "/console/roster/advisors/anna")
    form = {
        "csrf_token": token,
        "name": "Anna Prøve",
        "phone": "+45 68 30 00 01",
        "languages": "da, en, ar",
        "active": "on",
    }
    preview = client.post("/console/roster/advisors/anna", data=form)
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    assert "Se ændringerne, før du gemmer" in page
    assert _versions(staffed) == 1  # a preview saves nothing
    draft = _hidden(page, "draft")
    saved = client.post("/console/roster/save", data={"csrf_token": token, "draft": draft, "base": "1"})
    assert saved.status_code == 302 and "saved=2" in saved.headers["Location"]
    with staffed.extensions["hotline"].sessions() as db:
        assert rosters.current_roster(db) is not None
        assert rosters.current_roster(db).advisor("anna").languages == ("da", "en", "ar")  # type: ignore[union-attr]
        version = rosters.current_version(db)
        assert version is not None and version.imported_by == username
        row = db.scalars(select(AuditEntry).where(AuditEntry.action == "roster_changed")).one()
        assert row.subject == str(version.id) and row.actor == username
        assert row.detail == "advisors +0 ~1 -0; shifts +0 -0; overrides +0 -0"
    # The same draft again, previewed on version 1, is refused now: someone (we) saved in between.
    again = client.post("/console/roster/save", data={"csrf_token": token, "draft": draft, "base": "1"})
    assert "stale=1" in again.headers["Location"]
    assert _versions(staffed) == 2


def _hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, name
    return html.unescape(found.group(1))


def test_a_tampered_or_stale_draft_is_refused_not_a_500(staffed: Flask) -> None:
    client = _signed_in(staffed, "mads")
    token = csrf_token(client, "/console/roster/overrides/new")
    tampered = {"csrf_token": token, "draft": "version: 1\nadvisors: 5\n", "base": "1", "step": "open"}
    assert client.post("/console/roster/overrides/new", data=tampered).status_code == 400
    refused = client.post("/console/roster/save", data=tampered)
    assert refused.status_code == 400
    assert "Vagtplanen kan ikke gemmes sådan. Intet er ændret." in refused.get_data(as_text=True)
    # A version number that only looks like digits ("²" is a digit to str.isdigit, not to int) is no version.
    odd = {"csrf_token": token, "draft": DAILY_SHIFTS, "base": "²"}
    assert client.post("/console/roster/overrides/0/remove", data=odd).status_code == 200
    stale = client.post("/console/roster/save", data=odd)
    assert stale.status_code == 302 and "stale=1" in stale.headers["Location"]
    assert client.get("/console/roster/?saved=²").status_code == 200
    assert _versions(staffed) == 1


ADVISOR = {"name": "Eva Prøve", "id": "eva", "phone": "+45 68 30 00 05", "languages": "da", "active": "on"}
OVERRIDE = {
    "kind": "off",
    "advisor": "bo",
    "from_date": "2026-12-08",
    "from_time": "23:00",
    "to_date": "2026-12-09",
    "to_time": "07:00",
}


@pytest.mark.parametrize(
    ("path", "form", "field", "words"),
    [
        (
            "/console/roster/advisors/new",
            {**ADVISOR, "phone": "12345"},
            "phone",
            "»12345« er ikke et gyldigt telefonnummer",
        ),
        (
            "/console/roster/advisors/new",
            {**ADVISOR, "languages": "da, xx"},
            "languages",
            "»xx« er ikke en kendt sprogkode",
        ),
        (
            "/console/roster/overrides/new",
            {**OVERRIDE, "to_date": "2026-12-08", "to_time": "22:00"},
            "to_date",
            "Slut skal ligge efter start",
        ),
        (
            "/console/roster/overrides/new",  # anna already covers bo that night (TWO_COVERS)
            {
                **OVERRIDE,
                "kind": "replace",
                "advisor": "dalia",
                "replaces": "bo",
                "from_date": "2026-12-01",
                "to_date": "2026-12-02",
            },
            None,
            "Der er allerede en afløsning for bo i samme tidsrum",
        ),
    ],
)
def test_a_refused_change_re_renders_the_form_in_danish_and_saves_nothing(
    staffed: Flask, path: str, form: dict[str, str], field: str | None, words: str
) -> None:
    client = _signed_in(staffed, "mads")
    token = csrf_token(client, path)
    answer = client.post(path, data={"csrf_token": token, **form})
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert words in html.unescape(page)
    assert "Vagtplanen kan ikke gemmes sådan. Intet er ændret." in page
    if field is not None:  # the message is tied to its field
        assert f'id="{field}-problem"' in page
        assert (
            f'aria-describedby="{field}-problem"' in page
            or f'{field}-problem"' in page.split(f'id="{field}"')[1].split(">")[0]
        )
    assert _versions(staffed) == 1


def test_an_advisor_makes_and_sees_only_their_own_requests(staffed: Flask) -> None:
    anna, bo = _signed_in(staffed, "anna"), _signed_in(staffed, "bo")
    page = anna.get("/console/roster/requests/").get_data(as_text=True)
    import re

    mine = re.findall(r'<option value="(anna\|[^"]+)"', page)
    assert mine, "anna is offered her own shifts"
    token = csrf_token(anna, "/console/roster/requests/")
    made = anna.post(
        "/console/roster/requests/",
        data={
            "csrf_token": token,
            "kind": "swap",
            "my_shift": mine[0],
            "colleague": "dalia",
            "reason": "tandlæge",
        },
    )
    assert made.status_code == 302
    # A shift that is not hers is refused (she cannot swap bo's shift away).
    bo_page = bo.get("/console/roster/requests/").get_data(as_text=True)
    bos = re.findall(r'<option value="(bo\|[^"]+)"', bo_page)
    refused = anna.post(
        "/console/roster/requests/",
        data={"csrf_token": token, "kind": "swap", "my_shift": bos[0], "colleague": "dalia"},
    )
    assert refused.status_code == 400
    assert "Vælg en af dine vagter." in refused.get_data(as_text=True)
    assert 'id="own-1"' in anna.get("/console/roster/requests/").get_data(as_text=True)
    assert 'id="own-1"' not in bo.get("/console/roster/requests/").get_data(as_text=True)
    bo_token = csrf_token(bo, "/console/roster/requests/")
    assert bo.post("/console/roster/requests/1/withdraw", data={"csrf_token": bo_token}).status_code == 404
    with staffed.extensions["hotline"].sessions() as db:
        (request,) = db.scalars(select(RosterRequest)).all()
        assert (request.kind, request.shift_advisor_id, request.cover_advisor_id) == ("swap", "anna", "dalia")
        assert request.state == "requested"

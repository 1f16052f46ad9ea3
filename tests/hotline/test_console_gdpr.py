"""Audit and GDPR (issue 11, item 4): the data-protection officer reads the audit log and the retention settings
and nothing else (every console route, from the URL map); the audit log searched and exported; a relative's data
exported (every table pointing at a relative is in it) and erased (no trace of the number in any text column,
Twilio's copies queued, open callbacks cancelled first); the retention settings shown; the command line."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from hotline.db.models import (
    AuditEntry,
    Base,
    CallbackRequest,
    ClockworkRun,
    DataRequest,
    Message,
    OutboxText,
    Relative,
    RemoteErasure,
    utcnow,
)
from hotline.services import (
    outbox,
    pseudonyms,
    retention_overview,
    spreadsheet,
    subject_access,
    subject_erasure,
)
from hotline.staff.console.identity import READ_ONLY_ENDPOINTS
from tests.helpers import (
    ALWAYS_ON_CALL,
    HotlineRunner,
    add_staff,
    console_login,
    csrf_token,
    import_roster,
    local,
)
from tests.subjects import rows_holding, seed_subject

SUBJECT = "+4567300001"
OTHER = "+4567300002"
STOPPED = "+4567300003"
# The DPO's pages besides the ways in and out: they get 200 (or a redirect), everything else 403.
DPO_PAGES = {"console.home.index", "console.audit.index", "console.audit.export", "console.retention.index"}


@pytest.fixture
def staffed(app: Flask) -> Flask:
    import_roster(app, ALWAYS_ON_CALL)
    add_staff(app, "anna")
    add_staff(app, "carl", role="manager", advisor_id=None)
    add_staff(app, "dora", role="dpo", advisor_id=None)
    return app


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert console_login(client, username).status_code == 302
    return client


def console_rules(app: Flask) -> list[tuple[str, str, str]]:
    """Every console route as (endpoint, method, path) from the URL map: a page added later is covered."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("console."):
            path = re.sub(r"<(?:\w+:)?\w+>", "1", rule.rule)
            found += [(rule.endpoint, m, path) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


def test_a_dpo_gets_403_on_every_console_route_but_the_audit_log_retention_and_home(staffed: Flask) -> None:
    client = signed_in(staffed, "dora")
    token = csrf_token(client, "/console/")
    checked = set()
    for endpoint, method, path in console_rules(staffed):
        if endpoint in ("console.auth.logout", "console.static"):
            continue  # signing out ends the session the loop needs; static files are public
        response = client.open(path, method=method, data={"csrf_token": token})
        checked.add(endpoint)
        if endpoint in READ_ONLY_ENDPOINTS:
            assert response.status_code != 403, (endpoint, method, path)
        else:
            assert response.status_code == 403, (endpoint, method, path, response.status_code)
    # The list is the console's, not a copy: the queue, texts, relatives, handover, accounts and GDPR pages are
    # all in it, and everything but the DPO's own pages was refused.
    assert {
        "console.queue.index",
        "console.texts.index",
        "console.relatives.show",
        "console.gdpr.export",
    } <= checked
    assert READ_ONLY_ENDPOINTS - {"console.static", "console.auth.logout"} <= checked
    assert DPO_PAGES <= READ_ONLY_ENDPOINTS
    home = client.get("/console/").get_data(as_text=True)
    assert 'href="/console/audit/"' in home and 'href="/console/retention/"' in home
    assert 'href="/console/queue"' not in home and 'href="/console/gdpr/"' not in home
    assert client.get("/console/audit/").status_code == 200
    assert client.get("/console/retention/").status_code == 200


ADVISOR_REFUSED = [
    ("GET", "/console/audit/"),
    ("POST", "/console/audit/"),
    ("GET", "/console/audit/export?format=csv"),
    ("GET", "/console/gdpr/"),
    ("POST", "/console/gdpr/"),
    ("GET", "/console/gdpr/1"),
    ("POST", "/console/gdpr/1/export"),
    ("GET", "/console/gdpr/1/erase"),
    ("POST", "/console/gdpr/1/erase"),
    ("GET", "/console/retention/"),
]


def test_an_advisor_gets_403_on_audit_gdpr_and_retention_and_sees_no_links(staffed: Flask) -> None:
    client = signed_in(staffed, "anna")
    token = csrf_token(client, "/console/")
    refused = [
        (method, path)
        for method, path in ADVISOR_REFUSED
        if client.open(path, method=method, data={"csrf_token": token}).status_code == 403
    ]
    assert refused == ADVISOR_REFUSED
    home = client.get("/console/").get_data(as_text=True)
    assert "Revisionslog" not in home and "Persondata" not in home and "Opbevaring" not in home
    manager = signed_in(staffed, "carl").get("/console/").get_data(as_text=True)
    assert all(word in manager for word in ("Revisionslog", "Persondata", "Opbevaring", "Tilbagekald"))


def test_staff_add_makes_a_dpo_account(app: Flask, runner: HotlineRunner) -> None:
    result = runner.invoke(
        ["staff", "add", "ditte", "--role", "dpo", "--password-stdin"], input="en lang adgangskode\n"
    )
    assert result.exit_code == 0, result.output
    listed = runner.invoke(["staff", "list"])
    assert "ditte" in listed.output and "databeskyttelsesrådgiver" in listed.output
    client = app.test_client()
    assert console_login(client, "ditte", "en lang adgangskode").status_code == 302
    assert client.get("/console/queue").status_code == 403


# --- the export ------------------------------------------------------------------------------------------------


def relative_id_tables() -> set[str]:
    """Every table with a column that names a relative (`relative_id`, or a foreign key to relatives)."""
    return {
        table.name
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if column.name == "relative_id"
        or any(fk.column.table.name == "relatives" for fk in column.foreign_keys)
    }


def test_the_export_holds_every_table_that_points_at_a_relative() -> None:
    assert {"calls", "messages", "sms_outbox", "callback_requests", "call_routing", "audit_log"} <= (
        relative_id_tables()
    )
    missing = relative_id_tables() - {"relatives"} - set(subject_access.TABLES)
    assert missing == set(), f"add {sorted(missing)} to subject_access.TABLES and its selections"


def test_a_manager_exports_everything_about_the_relative_and_nothing_about_another(staffed: Flask) -> None:
    runtime = staffed.extensions["hotline"]
    seeded = seed_subject(runtime, SUBJECT, 1, utcnow(), opted_out=True)
    seed_subject(runtime, OTHER, 2, utcnow())
    client = signed_in(staffed, "carl")
    found = client.post(
        "/console/gdpr/", data={"number": "67 30 00 01", "csrf_token": csrf_token(client, "/console/gdpr/")}
    )
    assert found.headers["Location"] == f"/console/gdpr/{seeded.relative_id}"
    page = client.get(found.headers["Location"]).get_data(as_text=True)
    token = csrf_token(client, found.headers["Location"])
    response = client.post(
        f"/console/gdpr/{seeded.relative_id}/export", data={"format": "json", "csrf_token": token}
    )
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    document = json.loads(response.get_data(as_text=True))
    tables = document["tables"]
    assert set(tables) == set(subject_access.TABLES)
    assert "+45 67 30 00 01" in page
    bodies = {row["body"] for row in tables["messages"]}
    assert bodies == {"Min mor falder tit 1", "Vi ringer dig op 1"}
    assert {row["id"] for row in tables["callback_requests"]} == {
        seeded.open_callback,
        seeded.closed_callback,
    }
    notes = {row["note"] for row in tables["callback_attempts"]}
    assert {"Talte om aflastning 1", "Ring efter kl. 17 1"} <= notes
    assert [row["recording_sid"] for row in tables["recordings"]] == [seeded.sids["recording"]]
    assert [row["phone_number"] for row in tables["sms_opt_outs"]] == [SUBJECT]
    assert len(tables["call_events"]) == 1 and len(tables["call_routing"]) == 1
    assert len(tables["callback_refusals"]) == 1 and len(tables["demo_outbound"]) == 1
    assert [row["kind"] for row in tables["data_requests"]] == ["export"]  # the request is in its own export
    assert OTHER not in response.get_data(as_text=True)
    # The zip of CSVs: one file per table, each with its columns, the same rows.
    zipped = client.post(
        f"/console/gdpr/{seeded.relative_id}/export", data={"format": "csv", "csrf_token": token}
    )
    with zipfile.ZipFile(io.BytesIO(zipped.get_data())) as archive:
        assert sorted(archive.namelist()) == sorted(f"{name}.csv" for name in subject_access.TABLES)
        texts = list(csv.DictReader(io.StringIO(archive.read("messages.csv").decode("utf-8-sig"))))
    assert {row["body"] for row in texts} == bodies
    with runtime.sessions() as session:
        requests = session.scalars(select(DataRequest).order_by(DataRequest.id)).all()
        assert [(r.kind, r.relative_id, r.requested_by) for r in requests] == [
            ("export", seeded.relative_id, "carl")
        ] * 2
        assert requests[0].number_pseudonym == pseudonyms.pseudonym(
            pseudonyms.pseudonym_key(runtime), SUBJECT
        )
        actions = session.execute(
            select(AuditEntry.action, AuditEntry.subject).where(
                AuditEntry.actor == "carl", AuditEntry.relative_id == seeded.relative_id
            )
        ).all()
    assert [a for a, _ in actions] == ["viewed", "viewed", "exported", "exported"]  # the page, twice
    assert SUBJECT.removeprefix("+45") not in "".join(
        str(value) for r in requests for value in (r.detail, r.number_pseudonym)
    )


# --- the erasure -----------------------------------------------------------------------------------------------


def erase(client: FlaskClient, relative_id: int, confirm: bool = True) -> tuple[int, str, str | None]:
    page = client.get(f"/console/gdpr/{relative_id}/erase")
    token = csrf_token(client, f"/console/gdpr/{relative_id}/erase")
    data = {"csrf_token": token} | ({"confirm": "y"} if confirm else {})
    response = client.post(f"/console/gdpr/{relative_id}/erase", data=data)
    return response.status_code, page.get_data(as_text=True), response.headers.get("Location")


@pytest.mark.parametrize("opted_out", [False, True], ids=["no-opt-out", "opted-out"])
def test_erasure_leaves_no_trace_of_the_number_and_queues_twilio(staffed: Flask, opted_out: bool) -> None:
    runtime = staffed.extensions["hotline"]
    now = utcnow()
    seeded = seed_subject(runtime, SUBJECT, 1, now, opted_out=opted_out)
    seed_subject(runtime, OTHER, 2, now)
    other_before = rows_holding(runtime, OTHER)
    client = signed_in(staffed, "carl")
    status, confirmation, _ = erase(client, seeded.relative_id, confirm=False)
    assert status == 400  # not without the box ticked; nothing changed
    assert "Først aflyses 1 åbent tilbagekald." in confirmation
    assert ("Afmeldingen (STOP) bevares" in confirmation) is opted_out
    assert rows_holding(runtime, SUBJECT) != []
    status, _, location = erase(client, seeded.relative_id)
    assert status == 302 and location is not None and location.startswith("/console/gdpr/?erased=")
    done = client.get(location).get_data(as_text=True)
    assert "Data er slettet" in done
    # The opt-out alone keeps the number, to honour the STOP; nothing else anywhere does.
    assert rows_holding(runtime, SUBJECT) == (["sms_opt_outs.phone_number"] if opted_out else [])
    assert rows_holding(runtime, OTHER) == other_before  # another relative is untouched
    alias = pseudonyms.pseudonym(pseudonyms.pseudonym_key(runtime), SUBJECT)
    with runtime.sessions() as session:
        relative = session.get(Relative, seeded.relative_id)
        assert relative is not None
        assert (relative.phone_number, relative.language, relative.contact_person_id) == (alias, None, None)
        assert session.get(CallbackRequest, seeded.open_callback).state == "cancelled"  # type: ignore[union-attr]
        bodies = session.scalars(select(Message.body).where(Message.relative_id == seeded.relative_id)).all()
        assert bodies == [None, None]
        waiting = session.scalars(
            select(OutboxText.state).where(
                OutboxText.relative_id == seeded.relative_id, OutboxText.state == "pending"
            )
        ).all()
        assert waiting == []  # the cancellation's status text was written and cancelled: nothing goes out
        queued = set(session.execute(select(RemoteErasure.kind, RemoteErasure.sid)).all())
        request = session.scalars(select(DataRequest).where(DataRequest.kind == "erasure")).one()
        erased = session.scalars(select(AuditEntry).where(AuditEntry.action == "erased")).one()
    sids = seeded.sids
    assert {
        ("recording", sids["recording"]),
        ("message", sids["text_in"]),
        ("message_record", sids["text_out"]),
        ("call", sids["call"]),
        ("call", sids["attempt_call"]),
    } <= queued
    assert not any(sid.startswith("SM00000000000000000000000000000020") for _, sid in queued)  # not OTHER's
    assert (request.relative_id, request.number_pseudonym, request.requested_by) == (
        seeded.relative_id,
        alias,
        "carl",
    )
    assert (erased.relative_id, erased.actor, erased.subject) == (
        seeded.relative_id,
        "carl",
        f"data_request:{request.id}",
    )
    # The timeline and the search no longer know the number.
    assert client.get(f"/console/relatives/{seeded.relative_id}").status_code == 404
    token = csrf_token(client, "/console/relatives")
    assert client.post("/console/relatives", data={"number": SUBJECT, "csrf_token": token}).status_code == 404
    assert client.get(f"/console/gdpr/{seeded.relative_id}").status_code == 404


def test_an_erasure_waits_while_the_relative_is_being_called(staffed: Flask) -> None:
    runtime = staffed.extensions["hotline"]
    seeded = seed_subject(runtime, SUBJECT, 1, utcnow())
    with runtime.sessions.begin() as session:
        callback = session.get(CallbackRequest, seeded.open_callback)
        assert callback is not None
        callback.state = "in_progress"
    client = signed_in(staffed, "carl")
    token = csrf_token(client, f"/console/gdpr/{seeded.relative_id}/erase")
    refused = client.post(
        f"/console/gdpr/{seeded.relative_id}/erase", data={"csrf_token": token, "confirm": "y"}
    )
    assert refused.status_code == 400
    assert "Der er et opkald eller en sms i gang" in refused.get_data(as_text=True)
    assert rows_holding(runtime, SUBJECT) != []  # rolled back: nothing erased, nothing recorded
    with runtime.sessions() as session:
        assert session.scalars(select(DataRequest)).all() == []


def test_a_text_claimed_while_the_erasure_cancels_refuses_it_and_keeps_its_number(staffed: Flask) -> None:
    # The sender claims a waiting text after the erasure has begun (as its cancellations are written), in its
    # own committed transaction: the erasure must not go on and pseudonymise a text that is going out.
    runtime = staffed.extensions["hotline"]
    seed_subject(runtime, SUBJECT, 1, utcnow())
    claimed: list[int] = []

    def sender_claims(session: Session, *_: object) -> None:
        if claimed:
            return
        with runtime.sessions.begin() as other:
            claimed.extend(
                other.scalars(
                    update(OutboxText)
                    .where(OutboxText.to_number == SUBJECT, OutboxText.state == outbox.PENDING)
                    .values(state=outbox.SENDING)
                    .returning(OutboxText.id)
                )
            )

    with pytest.raises(subject_erasure.ErasureRefused), runtime.sessions.begin() as session:
        event.listen(session, "before_flush", sender_claims)
        relative = subject_access.find(session, SUBJECT)
        assert relative is not None
        key = pseudonyms.pseudonym_key(runtime)
        subject_erasure.erase(session, relative, key=key, actor="carl", account_id=None, now=utcnow())
    assert claimed != []
    with runtime.sessions() as session:
        going = session.scalars(select(OutboxText).where(OutboxText.id.in_(claimed))).all()
        assert {(text.state, text.to_number) for text in going} == {(outbox.SENDING, SUBJECT)}
        assert session.scalars(select(DataRequest)).all() == []


def test_a_number_pseudonymised_before_is_merged_into_one_relative(staffed: Flask) -> None:
    runtime = staffed.extensions["hotline"]
    key = pseudonyms.pseudonym_key(runtime)
    alias = pseudonyms.pseudonym(key, SUBJECT)
    with runtime.sessions.begin() as session:
        session.add(Relative(phone_number=alias))  # purged a year ago
    seeded = seed_subject(runtime, SUBJECT, 1, utcnow())
    with runtime.sessions.begin() as session:
        relative = subject_access.find(session, SUBJECT)
        assert relative is not None
        done = subject_erasure.erase(session, relative, key=key, actor="carl", account_id=None, now=utcnow())
    assert rows_holding(runtime, SUBJECT) == []
    with runtime.sessions() as session:
        assert session.get(Relative, seeded.relative_id) is None
        earlier = session.scalars(select(Relative).where(Relative.phone_number == alias)).one()
        calls = session.scalars(select(CallbackRequest.relative_id)).all()
        assert set(calls) == {earlier.id}
        assert session.get(DataRequest, done.request_id).relative_id == earlier.id  # type: ignore[union-attr]


# --- the audit log ---------------------------------------------------------------------------------------------


def test_the_audit_log_is_searched_by_number_actor_action_and_period_and_exported(staffed: Flask) -> None:
    runtime = staffed.extensions["hotline"]
    seeded = seed_subject(runtime, SUBJECT, 1, utcnow())
    other = seed_subject(runtime, OTHER, 2, utcnow())
    carl = signed_in(staffed, "carl")
    carl.get(f"/console/relatives/{seeded.relative_id}")
    carl.get(f"/console/relatives/{other.relative_id}")
    assert erase(carl, seeded.relative_id)[0] == 302
    dora = signed_in(staffed, "dora")
    token = csrf_token(dora, "/console/audit/")
    # By number, after the erasure: the number is only a pseudonym now, and still finds the relative's rows.
    found = dora.post("/console/audit/", data={"number": "+45 67 30 00 01", "csrf_token": token})
    assert found.status_code == 302 and "67300001" not in found.headers["Location"]
    assert found.headers["Location"] == f"/console/audit/?relative={seeded.relative_id}&by_number=1"
    page = dora.get(found.headers["Location"]).get_data(as_text=True)
    shown = re.findall(r'<li class="card" id="audit-(\d+)">', page)
    with runtime.sessions() as session:
        about = session.scalars(
            select(AuditEntry.id)
            .where(AuditEntry.relative_id == seeded.relative_id)
            .order_by(AuditEntry.id.desc())
        ).all()
    assert [int(i) for i in shown] == list(about)  # all of them, newest first, nobody else's
    assert "Slettet" in page and "Set" in page
    # A number nobody had.
    nobody = dora.post("/console/audit/", data={"number": "67 39 99 99", "csrf_token": token})
    assert nobody.status_code == 404 and "Ingen pårørende har haft det nummer" in nobody.get_data(
        as_text=True
    )
    assert dora.post("/console/audit/", data={"number": "hej", "csrf_token": token}).status_code == 400
    # By actor and action.
    erased = dora.get("/console/audit/?actor=carl&action=erased").get_data(as_text=True)
    assert len(re.findall(r'class="card"', erased)) == 1
    # By period: tomorrow has nothing; a bad date is said so.
    tomorrow = (utcnow() + timedelta(days=2)).date().isoformat()
    assert "Ingen rækker passer" in dora.get(f"/console/audit/?since={tomorrow}").get_data(as_text=True)
    bad = dora.get("/console/audit/?since=31-12-2026")
    assert bad.status_code == 400 and "åååå-mm-dd" in bad.get_data(as_text=True)
    # The export: the same rows, parsed back; and the export itself is a row.
    exported = dora.get(f"/console/audit/export?format=csv&relative={seeded.relative_id}")
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert [int(row["id"]) for row in rows] == list(about)
    as_json = json.loads(
        dora.get(f"/console/audit/export?format=json&relative={seeded.relative_id}").get_data()
    )
    assert [row["id"] for row in as_json["rows"]] == list(about)
    with runtime.sessions() as session:
        exports = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "exported", AuditEntry.actor == "dora")
        ).all()
    assert [e.detail.split(",")[0] for e in exports if e.detail] == ["csv", "json"]
    assert all(SUBJECT.removeprefix("+45") not in (e.detail or "") for e in exports)


def test_the_audit_log_pages_newest_first(staffed: Flask) -> None:
    runtime = staffed.extensions["hotline"]
    now = utcnow()
    with runtime.sessions.begin() as session:
        for n in range(120):
            session.add(
                AuditEntry(at=now - timedelta(minutes=n), actor="anna", action="viewed", relative_id=7)
            )
    client = signed_in(staffed, "carl")
    seen: list[int] = []
    url: str | None = "/console/audit/?relative=7"
    while url:
        page = client.get(url).get_data(as_text=True)
        seen += [int(i) for i in re.findall(r'id="audit-(\d+)"', page)]
        more = re.search(r'href="([^"]+)" id="older"', page)
        url = more.group(1).replace("&amp;", "&") if more else None
    assert seen == list(range(1, 121))  # id 1 is the newest: minutes before now counted up


# --- retention ---------------------------------------------------------------------------------------------------


def test_the_retention_page_shows_every_key_the_purge_and_the_erasure_queue(staffed: Flask) -> None:
    runtime = staffed.extensions["hotline"]
    retention = runtime.settings.file.retention
    now = utcnow()
    with runtime.sessions.begin() as session:
        session.add(
            ClockworkRun(
                job="purge", run_key="2026-01-02", summary="message_bodies=3", ran_at=now - timedelta(days=3)
            )
        )
        session.add(RemoteErasure(kind="call", sid="CA" + "9" * 32, next_attempt_at=now))
    page = signed_in(staffed, "dora").get("/console/retention/").get_data(as_text=True)
    keys = [key for key in type(retention).model_fields if key.endswith("_days")]
    assert len(keys) == 8
    for key in keys:
        card = re.search(rf'id="key-{key}">(.*?)</li>', page, re.S)
        assert card is not None, key
        assert f"{getattr(retention, key)} dage" in card.group(1)
    assert "Hvad sms&#39;er siger" in page or "Hvad sms'er siger" in page
    assert "message_bodies=3" in page and "1 venter" in page


@pytest.mark.parametrize(
    ("hour", "ran_today", "expected"),
    [
        (1, False, (10, 3, 30)),  # tonight's is still to come
        (9, False, None),  # past its time and not run yet: now ("om få minutter")
        (9, True, (11, 3, 30)),  # done: tomorrow night's
    ],
    ids=["before", "overdue", "done"],
)
def test_the_retention_page_says_when_the_purge_runs_next(
    staffed: Flask, hour: int, ran_today: bool, expected: tuple[int, int, int] | None
) -> None:
    runtime = staffed.extensions["hotline"]
    now = local(date(2026, 6, 10), hour, 0)
    with runtime.sessions.begin() as session:
        if ran_today:
            session.add(ClockworkRun(job="purge", run_key="2026-06-10", summary="nothing", ran_at=now))
        found = retention_overview.overview(session, runtime.settings, now)
    assert found.next_purge == (now if expected is None else local(date(2026, 6, expected[0]), *expected[1:]))


def test_the_command_line_exports_and_erases_by_number(staffed: Flask, runner: HotlineRunner) -> None:
    runtime = staffed.extensions["hotline"]
    seeded = seed_subject(runtime, SUBJECT, 1, utcnow())
    exported = runner.invoke(["relatives", "export", "67 30 00 01"])
    assert exported.exit_code == 0, exported.output
    tables = json.loads(exported.output)["tables"]
    assert {row["body"] for row in tables["messages"]} == {"Min mor falder tit 1", "Vi ringer dig op 1"}
    assert runner.invoke(["relatives", "erase", SUBJECT], input="n\n").exit_code == 1
    assert rows_holding(runtime, SUBJECT) != []
    erased = runner.invoke(["relatives", "erase", SUBJECT, "--yes"])
    assert erased.exit_code == 0, erased.output
    assert "Data er slettet" in erased.output
    assert rows_holding(runtime, SUBJECT) == []
    again = runner.invoke(["relatives", "export", SUBJECT])
    assert again.exit_code == 1 and "+45 67 30 ** **" in again.output
    with runtime.sessions() as session:
        kinds = session.execute(
            select(DataRequest.kind, DataRequest.relative_id, DataRequest.requested_by)
        ).all()
    assert [(k, r) for k, r, _ in kinds] == [("export", seeded.relative_id), ("erasure", seeded.relative_id)]
    assert all(by.startswith("cli:") for _, _, by in kinds)


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("\t=1", "'\t=1"),
        ("+4567300001", "+4567300001"),  # a phone number stays a number
        ("-5", "-5"),
        ("Min mor falder tit", "Min mor falder tit"),
        (42, 42),
        (None, None),
    ],
)
def test_csv_cells_a_spreadsheet_would_run_are_defused(value: object, written: object) -> None:
    assert spreadsheet.cell(value) == written

"""Audit and GDPR in real Chromium at a phone's size: a manager finds a relative by number, downloads their data
(JSON, with their texts and callbacks), erases it after the confirmation step; the timeline and the search no
longer know the number and Twilio's copies are queued. Then the data-protection officer signs in, finds the
export, the erasure and the manager's views of that relative in the audit log by the number, and downloads the
log as CSV. axe-core checks every page (audit, GDPR search, relative, confirmation, retention)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from hotline.db.models import AuditEntry, RemoteErasure, utcnow
from tests.browser.walks import ARTIFACTS, PHONE, axe_violations, sign_in
from tests.helpers import add_staff
from tests.subjects import rows_holding, seed_subject

SUBJECT = "+4567300001"


def test_a_manager_exports_and_erases_then_the_dpo_finds_it_all_in_the_audit_log(
    page: Page,
    phone_page: Callable[..., Page],
    console_app: Flask,
    serve: Callable[[Flask], str],
    tmp_path: Path,
) -> None:
    runtime = console_app.extensions["hotline"]
    seeded = seed_subject(runtime, SUBJECT, 1, utcnow())
    add_staff(console_app, "dora", role="dpo", advisor_id=None)
    server = serve(console_app)
    ARTIFACTS.mkdir(exist_ok=True)

    # The manager looks at the relative's timeline first (a view the DPO will find), then opens Persondata.
    page.goto(f"{server}/console/relatives/{seeded.relative_id}")
    sign_in(page, "carl")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.get_by_role("link", name="Persondata").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("En pårørendes data")
    assert axe_violations(page) == []
    page.get_by_label("Telefonnummer").fill("67 30 00 01")
    page.get_by_role("button", name="Søg").click()
    expect(page.locator("#number")).to_have_text("+45 67 30 00 01")
    assert axe_violations(page) == []
    with page.expect_download() as download:
        page.get_by_role("button", name="Hent som JSON").click()
    saved = tmp_path / "export.json"
    download.value.save_as(saved)
    tables = json.loads(saved.read_text(encoding="utf-8"))["tables"]
    assert {row["body"] for row in tables["messages"]} == {"Min mor falder tit 1", "Vi ringer dig op 1"}
    assert {row["id"] for row in tables["callback_requests"]} == {
        seeded.open_callback,
        seeded.closed_callback,
    }
    assert "Ring efter kl. 17 1" in {row["note"] for row in tables["callback_attempts"]}

    # The erasure: a confirmation page that says the open callback is cancelled first; the box must be ticked.
    page.get_by_role("link", name="Slet den pårørendes data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bekræft sletning")
    expect(page.locator("#plan-callbacks")).to_have_text("Først aflyses 1 åbent tilbagekald.")
    assert axe_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "console-gdpr-erase-360x740.png"), full_page=True)
    page.get_by_role("button", name="Slet data").click()
    expect(page.get_by_role("alert")).to_have_text("Sæt flueben for at bekræfte sletningen.")
    assert rows_holding(runtime, SUBJECT) != []
    page.get_by_label("Jeg har tjekket, hvem der beder om sletningen").check()
    page.get_by_role("button", name="Slet data").click()
    expect(page.get_by_role("status")).to_contain_text("Data er slettet")
    assert rows_holding(runtime, SUBJECT) == []
    with runtime.sessions() as session:
        queued = session.execute(
            select(RemoteErasure.kind, RemoteErasure.sid).where(RemoteErasure.done_at.is_(None))
        ).all()
    sids = seeded.sids
    assert {("recording", sids["recording"]), ("message", sids["text_in"]), ("call", sids["call"])} <= set(
        queued
    )
    # The timeline and the search no longer know the number.
    page.get_by_role("link", name="Pårørende", exact=True).click()
    page.get_by_label("Telefonnummer").fill(SUBJECT)
    page.get_by_role("button", name="Søg").click()
    expect(page.get_by_role("alert")).to_contain_text("+45 67 30 ** **")
    assert page.goto(f"{server}/console/relatives/{seeded.relative_id}").status == 404  # type: ignore[union-attr]

    # The retention page, as the manager sees it: the erasures wait at Twilio.
    page.goto(f"{server}/console/retention/")
    expect(page.locator("#pending-erasures")).to_contain_text(f"{len(queued)} venter")
    assert axe_violations(page) == []

    # The data-protection officer, in another browser.
    dpo = phone_page(accept_downloads=True)
    dpo.goto(f"{server}/console/")
    sign_in(dpo, "dora")
    expect(dpo.locator("#dpo-links")).to_be_visible()
    assert dpo.locator("nav").get_by_role("link", name="Tilbagekald").count() == 0
    dpo.get_by_role("link", name="Revisionslog").first.click()
    expect(dpo.get_by_role("heading", level=1)).to_have_text("Revisionslog")
    assert axe_violations(dpo) == []
    dpo.get_by_label("Pårørendes telefonnummer").fill("+45 67 30 00 01")
    dpo.get_by_role("button", name="Søg").click()
    expect(dpo.locator("#by-number")).to_be_visible()
    assert "67300001" not in dpo.url
    rows = dpo.locator("#audit-rows li")
    expect(rows.first).to_contain_text("Slettet")  # newest first
    texts = rows.all_inner_texts()
    assert sum("Udtrukket" in t and "carl" in t for t in texts) == 1
    assert sum("Slettet" in t and "carl" in t for t in texts) == 1
    assert any("Set" in t and "carl" in t and "timeline" in t for t in texts)
    assert axe_violations(dpo) == []
    dpo.screenshot(path=str(ARTIFACTS / "console-audit-360x740.png"), full_page=True)
    with dpo.expect_download() as download:
        dpo.get_by_role("link", name="Hent som CSV").click()
    saved = tmp_path / "audit.csv"
    download.value.save_as(saved)
    exported = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert {row["action"] for row in exported} >= {"viewed", "exported", "erased"}
    assert {row["relative_id"] for row in exported} == {str(seeded.relative_id)}
    with runtime.sessions() as session:
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
    assert (last.actor, last.action, last.subject) == ("dora", "exported", "audit_log")
    dpo.get_by_role("link", name="Opbevaring").first.click()
    expect(dpo.get_by_role("heading", level=1)).to_have_text("Opbevaring af data")
    assert axe_violations(dpo) == []
    width = dpo.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the retention page is {width} px wide on a 360 px phone"
    assert dpo.goto(f"{server}/console/gdpr/").status == 403  # type: ignore[union-attr]
    assert page.csp == [] and dpo.csp == []  # type: ignore[attr-defined]

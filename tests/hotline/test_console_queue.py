"""The console's callback queue: the list in working order with masked numbers, "mine" and "all", take and the
second advisor's message, "ring mig op" ringing the advisor first, the outcome and a note, a voicemail from a
withheld number closed after listening, assign and release, the audit log, and CSRF on every step."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from hotline.db.models import AuditEntry, CallbackRequest, DemoOutbound, utcnow
from hotline.runtime import Runtime
from hotline.services import callback_queue
from routing.callbacks import Priority
from tests.helpers import (
    NUMBERS,
    RELATIVE,
    add_staff,
    console_login,
    csrf_token,
    dial_in,
    register_callback,
)


@pytest.fixture
def staffed(rostered: Flask) -> Flask:
    add_staff(rostered, "anna")
    add_staff(rostered, "dalia")
    add_staff(rostered, "carl", role="manager", advisor_id="carl")
    return rostered


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert console_login(client, username).status_code == 302
    return client


def post(client: FlaskClient, path: str, **form: str) -> str:
    """Press a button on the queue page and follow the redirect back; the page shown after."""
    form["csrf_token"] = csrf_token(client, "/console/queue")
    response = client.post(path, data=form, follow_redirects=True)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def message(page: str) -> str:
    found = re.search(r'id="queue-message">([^<]*)<', page)
    assert found, "no message on the page"
    return found.group(1)


def runtime_of(app: Flask) -> Runtime:
    runtime: Runtime = app.extensions["hotline"]
    return runtime


def state(app: Flask, callback_id: int) -> CallbackRequest:
    with runtime_of(app).sessions() as session:
        callback = session.get(CallbackRequest, callback_id)
        assert callback is not None
        return callback


def test_the_queue_lists_acute_first_with_masked_numbers(staffed: Flask) -> None:
    now = utcnow()
    question = register_callback(runtime_of(staffed), now, window="asap", number="+4567100001")
    acute = register_callback(
        runtime_of(staffed), now, window="asap", priority=Priority.ACUTE, number="+4567100002"
    )
    anna = signed_in(staffed, "anna")
    page = anna.get("/console/queue").get_data(as_text=True)
    assert page.index(f'id="callback-{acute}"') < page.index(f'id="callback-{question}"')
    assert "+45 67 10 ** **" in page and "+4567100001" not in page and "+4567100002" not in page
    assert "akut" in page and "arabisk" in page and "0 forsøg" in page and "Ingen har taget den" in page
    assert 'hx-get="/console/queue/list?view=all"' in page and "every 10s" in page
    assert page.count("Ring mig op") == 2
    fragment = anna.get("/console/queue/list?view=mine").get_data(as_text=True)
    assert "Du har ingen tilbagekald lige nu." in fragment and "<html" not in fragment


def test_take_then_the_second_advisor_is_told_someone_has_it(staffed: Flask) -> None:
    callback_id = register_callback(runtime_of(staffed), utcnow(), window="asap")
    anna, dalia = signed_in(staffed, "anna"), signed_in(staffed, "dalia")
    dalias_page = dalia.get("/console/queue").get_data(as_text=True)  # she sees it free ...
    assert f'id="take-{callback_id}"' in dalias_page
    assert message(post(anna, f"/console/queue/{callback_id}/take")) == f"Du har taget sag {callback_id}."
    # ... and presses "Tag sagen" after anna did: a clear message, the callback stays anna's.
    page = post(dalia, f"/console/queue/{callback_id}/take")
    assert message(page) == "En anden rådgiver har allerede taget denne sag."
    assert 'role="alert"' in page and "Taget af Anna Prøve" in page
    assert "Ring mig op" not in page  # nothing for dalia to press on anna's callback
    page = post(dalia, f"/console/queue/{callback_id}/call")
    assert message(page) == "En anden rådgiver har allerede taget denne sag."
    with runtime_of(staffed).sessions() as session:
        assert session.scalars(select(DemoOutbound)).all() == []  # no call for the loser
    assert state(staffed, callback_id).assigned_advisor_id == "anna"
    mine = anna.get("/console/queue?view=mine").get_data(as_text=True)
    assert f'id="callback-{callback_id}"' in mine and "Taget af dig" in mine


def test_ring_mig_op_rings_the_advisor_first_then_the_outcome_and_a_note(staffed: Flask) -> None:
    callback_id = register_callback(runtime_of(staffed), utcnow(), window="asap")
    anna = signed_in(staffed, "anna")
    page = post(anna, f"/console/queue/{callback_id}/call")
    assert message(page).startswith("Din telefon ringer nu.")
    with runtime_of(staffed).sessions() as session:
        (placed,) = session.scalars(select(DemoOutbound)).all()
    assert (placed.kind, placed.to_number) == (
        "call",
        NUMBERS["anna"],
    )  # the advisor's phone, not the relative's
    assert state(staffed, callback_id).state == "in_progress"
    again = post(anna, f"/console/queue/{callback_id}/call")  # a double click
    assert message(again) == f"Du er allerede ved at ringe sag {callback_id} op."
    case = anna.get(f"/console/queue/{callback_id}").get_data(as_text=True)
    assert "Hvordan gik opkaldet?" in case
    done = post(
        anna,
        f"/console/queue/{callback_id}/outcome",
        outcome="reached",
        note="Talt med datteren",
        next=f"/console/queue/{callback_id}",
    )
    assert message(done) == "Udfaldet er gemt."
    assert "Talt med datteren" in done and "Opkald: reached" in done
    assert state(staffed, callback_id).state == "reached"
    mine = anna.get("/console/queue?view=mine").get_data(as_text=True)
    assert "Afsluttet for nylig" in mine and f'id="callback-{callback_id}"' in mine


def test_a_withheld_voicemail_cannot_be_called_and_is_closed_after_listening(staffed: Flask) -> None:
    # A withheld caller who asks for a callback but keys in no number leaves a message instead.
    dial_in(staffed, ["1", "3", "", "", ""], caller="anonymous")
    with runtime_of(staffed).sessions() as session:
        (task,) = session.scalars(select(CallbackRequest)).all()
    anna = signed_in(staffed, "anna")
    page = anna.get("/console/queue").get_data(as_text=True)
    assert "skjult nummer" in page and f"Talebesked {task.recording_sid}" in page
    assert f'id="call-{task.id}"' not in page and "Luk efter aflytning" in page
    refused = post(anna, f"/console/queue/{task.id}/call")
    assert message(refused).startswith("Nummeret er skjult, så sagen kan ikke ringes op.")
    closed = post(anna, f"/console/queue/{task.id}/close")
    assert message(closed) == f"Sag {task.id} er lukket."
    assert state(staffed, task.id).state == "cancelled"
    case = anna.get(f"/console/queue/{task.id}").get_data(as_text=True)  # a closed case can still be opened
    assert "aflyst" in case and "Ring mig op" not in case and "Gem note" in case


def test_an_advisor_hands_over_and_a_manager_reassigns(staffed: Flask) -> None:
    callback_id = register_callback(runtime_of(staffed), utcnow(), window="asap")
    anna, dalia, carl = (signed_in(staffed, name) for name in ("anna", "dalia", "carl"))
    post(anna, f"/console/queue/{callback_id}/take")
    refused = post(dalia, f"/console/queue/{callback_id}/assign", advisor="dalia")
    assert message(refused) == "En anden rådgiver har allerede taget denne sag."
    given = post(anna, f"/console/queue/{callback_id}/assign", advisor="dalia")
    assert message(given) == f"Sag {callback_id} er givet til Dalia Prøve."
    post(carl, f"/console/queue/{callback_id}/assign", advisor="bo")
    assert state(staffed, callback_id).assigned_advisor_id == "bo"
    released = post(carl, f"/console/queue/{callback_id}/release")
    assert message(released) == f"Sag {callback_id} er lagt tilbage i køen."
    assert state(staffed, callback_id).assigned_advisor_id is None


def test_opening_a_case_and_every_step_is_audited(staffed: Flask) -> None:
    callback_id = register_callback(runtime_of(staffed), utcnow(), window="asap")
    anna = signed_in(staffed, "anna")
    case = anna.get(f"/console/queue/{callback_id}")
    assert case.status_code == 200 and "+45 67 12 ** **" in case.get_data(as_text=True)
    post(anna, f"/console/queue/{callback_id}/note", note="Ring efter kl. 16")
    with runtime_of(staffed).sessions() as session:
        relative_id = state(staffed, callback_id).relative_id
        rows = session.scalars(select(AuditEntry).where(AuditEntry.relative_id == relative_id)).all()
        assert [(r.actor, r.action, r.subject, r.detail) for r in rows] == [
            ("anna", "viewed", f"callback:{callback_id}", None),
            ("anna", "changed", f"callback:{callback_id}", "note"),
        ]
        assert all(RELATIVE not in (r.detail or "") for r in rows)
    assert anna.get("/console/queue/9999").status_code == 404


def test_steps_need_the_csrf_token_and_a_note_must_say_something(staffed: Flask) -> None:
    callback_id = register_callback(runtime_of(staffed), utcnow(), window="asap")
    anna = signed_in(staffed, "anna")
    assert anna.post(f"/console/queue/{callback_id}/take").status_code == 400
    assert state(staffed, callback_id).assigned_advisor_id is None
    assert message(post(anna, f"/console/queue/{callback_id}/note", note="  ")) == "Noten er tom."
    with runtime_of(staffed).sessions() as session:
        assert callback_queue.notes_on(session, [callback_id]) == 0


def test_a_manager_without_a_phone_cannot_be_called(rostered: Flask) -> None:
    callback_id = register_callback(runtime_of(rostered), utcnow(), window="asap")
    add_staff(rostered, "maja", role="manager")
    maja = signed_in(rostered, "maja")
    page = post(maja, f"/console/queue/{callback_id}/call")
    assert message(page).startswith("Din konto hører ikke til en rådgiver i vagtplanen")


def test_the_queue_speaks_english_too(staffed: Flask) -> None:
    callback_id = register_callback(runtime_of(staffed), utcnow(), window="asap")
    anna, dalia = signed_in(staffed, "anna"), signed_in(staffed, "dalia")
    post(anna, f"/console/queue/{callback_id}/take")
    dalia.post("/console/language", data={"language": "en", "csrf_token": csrf_token(dalia, "/console/")})
    page = post(dalia, f"/console/queue/{callback_id}/take")
    assert message(page) == "Another advisor has already taken this case."
    assert "Taken by Anna Prøve" in page and "Call me" not in page

"""Staff accounts: hashes, the lock-out counted in the database, disabling, the roster's say, the audit log, and
`hotline staff add|passwd|disable|list`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from hotline.config.settings import load_settings
from hotline.db.models import StaffAccount
from hotline.services import audit, staff_accounts
from hotline.services.staff_accounts import AccountError, Outcome, Role
from tests.helpers import ALWAYS_ON_CALL, STAFF_PASSWORD, HotlineRunner, add_staff, import_roster, utc

NOW = utc(2026, 11, 3, 14, 0)
POLICY = load_settings(environ={}).file.console.model_copy(
    update={"lockout_attempts": 3, "lockout_minutes": 15}
)


@pytest.fixture
def staffed(rostered: Flask) -> Flask:
    add_staff(rostered, "anna")
    return rostered


def sign_in(app: Flask, username: str, password: str, now: object = NOW) -> staff_accounts.SignIn:
    with app.extensions["hotline"].sessions.begin() as session:
        return staff_accounts.sign_in(session, username, password, now, POLICY)  # type: ignore[arg-type]


def test_the_password_is_kept_as_an_argon2id_hash(staffed: Flask) -> None:
    with staffed.extensions["hotline"].sessions() as session:
        account = session.scalars(select(StaffAccount)).one()
    assert account.password_hash is not None and account.password_hash.startswith("$argon2id$")
    assert STAFF_PASSWORD not in account.password_hash
    assert account.name == "Anna Prøve"  # the roster advisor's name


def test_a_right_password_signs_in_and_a_wrong_one_or_name_does_not(staffed: Flask) -> None:
    signed = sign_in(staffed, "Anna ", STAFF_PASSWORD)
    assert signed.outcome is Outcome.SIGNED_IN and signed.identity is not None
    assert (signed.identity.role, signed.identity.advisor_id) == (Role.ADVISOR, "anna")
    assert sign_in(staffed, "anna", "not the password").outcome is Outcome.WRONG
    assert sign_in(staffed, "nobody", STAFF_PASSWORD) == staff_accounts.SignIn(Outcome.WRONG)


def test_wrong_passwords_in_a_row_lock_the_account_even_for_the_right_one(staffed: Flask) -> None:
    outcomes = [sign_in(staffed, "anna", f"wrong {n}").outcome for n in range(3)]
    assert outcomes == [Outcome.WRONG, Outcome.WRONG, Outcome.LOCKED]
    locked = sign_in(staffed, "anna", STAFF_PASSWORD, NOW + timedelta(minutes=14))
    assert (locked.outcome, locked.locked_until) == (Outcome.LOCKED, NOW + timedelta(minutes=15))
    assert sign_in(staffed, "anna", STAFF_PASSWORD, NOW + timedelta(minutes=16)).outcome is Outcome.SIGNED_IN


def test_the_count_lives_in_the_database_so_every_worker_adds_to_it(staffed: Flask, make_app: object) -> None:
    """Two apps (as two gunicorn workers) on one database: their wrong passwords add up."""
    other = make_app()  # type: ignore[operator]
    sign_in(staffed, "anna", "wrong 1")
    sign_in(other, "anna", "wrong 2")
    assert sign_in(staffed, "anna", "wrong 3").outcome is Outcome.LOCKED


def test_a_right_password_resets_the_count(staffed: Flask) -> None:
    sign_in(staffed, "anna", "wrong 1")
    sign_in(staffed, "anna", "wrong 2")
    sign_in(staffed, "anna", STAFF_PASSWORD)
    assert sign_in(staffed, "anna", "wrong 3").outcome is Outcome.WRONG


@pytest.mark.parametrize("how", ["staff", "roster"])
def test_a_disabled_account_or_an_advisor_gone_from_the_roster_cannot_sign_in_or_stay(
    staffed: Flask, how: str
) -> None:
    signed = sign_in(staffed, "anna", STAFF_PASSWORD)
    assert signed.identity is not None
    if how == "staff":
        with staffed.extensions["hotline"].sessions.begin() as session:
            staff_accounts.disable(session, "anna")
    else:
        import_roster(
            staffed, ALWAYS_ON_CALL.replace("languages: [da, en]}", "languages: [da, en], active: false}")
        )
    assert sign_in(staffed, "anna", STAFF_PASSWORD).outcome is Outcome.DISABLED
    with staffed.extensions["hotline"].sessions() as session:
        assert staff_accounts.load(session, signed.identity.account_id, signed.identity.session_epoch) is None


def test_a_new_password_ends_the_sessions_handed_out_before(staffed: Flask) -> None:
    signed = sign_in(staffed, "anna", STAFF_PASSWORD)
    assert signed.identity is not None
    with staffed.extensions["hotline"].sessions.begin() as session:
        staff_accounts.set_password(session, "anna", "another long password")
        assert staff_accounts.load(session, signed.identity.account_id, signed.identity.session_epoch) is None
        assert staff_accounts.load(session, signed.identity.account_id, signed.identity.session_epoch + 1)


@pytest.mark.parametrize(
    ("values", "message_id"),
    [
        ({"username": "Ny Bruger", "role": Role.MANAGER}, "account.error.bad_username"),
        ({"username": "anna", "role": Role.ADVISOR, "advisor_id": "anna"}, "account.error.username_taken"),
        ({"username": "bo", "role": Role.ADVISOR}, "account.error.advisor_needed"),
        ({"username": "eve", "role": Role.ADVISOR, "advisor_id": "eve"}, "account.error.unknown_advisor"),
        ({"username": "carl", "role": Role.ADMIN, "password": "short"}, "account.error.password_short"),
    ],
)
def test_a_refused_account_says_why(staffed: Flask, values: dict[str, object], message_id: str) -> None:
    values = {"name": "", "password": STAFF_PASSWORD, **values}
    with staffed.extensions["hotline"].sessions() as session, pytest.raises(AccountError) as raised:
        staff_accounts.create(session, **values)  # type: ignore[arg-type]
    assert raised.value.message_id == message_id


def test_the_audit_log_keeps_its_rows_newest_first(staffed: Flask) -> None:
    with staffed.extensions["hotline"].sessions.begin() as session:
        audit.record(session, actor="anna", action=audit.Action.SIGNED_IN, account_id=1, at=NOW)
        audit.record(
            session, actor="anna", action=audit.Action.VIEWED, account_id=1, relative_id=7, subject="timeline"
        )
    with staffed.extensions["hotline"].sessions() as session:
        rows = audit.entries(session)
        assert [(r.action, r.relative_id) for r in rows] == [("viewed", 7), ("signed_in", None)]
        assert [r.action for r in audit.entries(session, relative_id=7)] == ["viewed"]


def test_the_demo_login_gets_a_new_password_at_each_start(staffed: Flask) -> None:
    with staffed.extensions["hotline"].sessions.begin() as session:
        first = staff_accounts.ensure_demo_login(session, NOW)
    with staffed.extensions["hotline"].sessions.begin() as session:
        second = staff_accounts.ensure_demo_login(session, NOW)
    assert first is not None and second is not None and first[0] == second[0] == "demo"
    assert sign_in(staffed, "demo", first[1]).outcome is Outcome.WRONG
    signed = sign_in(staffed, "demo", second[1])
    assert signed.identity is not None and signed.identity.advisor_id == "anna"  # on call now, primary


# --- hotline staff ------------------------------------------------------------------------------------------


def test_staff_add_reads_the_password_twice_and_the_account_signs_in(
    rostered: Flask, runner: HotlineRunner
) -> None:
    result = runner.invoke(
        ["staff", "add", "dalia", "--advisor", "dalia"], input="lang nok kode\nlang nok kode\n"
    )
    assert result.exit_code == 0, result.output
    assert "konto oprettet: dalia (rådgiver) (account added: dalia (advisor))" in result.output
    assert "lang nok kode" not in result.output
    assert sign_in(rostered, "dalia", "lang nok kode").outcome is Outcome.SIGNED_IN


def test_staff_add_refuses_two_different_passwords(rostered: Flask, runner: HotlineRunner) -> None:
    result = runner.invoke(
        ["staff", "add", "dalia", "--advisor", "dalia"], input="lang nok kode\nen anden kode\n"
    )
    assert result.exit_code == 1
    assert "de to adgangskoder er ikke ens (the two passwords differ)" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        (
            ["staff", "add", "eve", "--advisor", "eve", "--password-stdin"],
            "lang nok kode\n",
            "rådgiveren eve findes ikke",
        ),
        (["staff", "add", "eve", "--password-stdin"], "lang nok kode\n", "angiv --advisor ID"),
        (
            ["staff", "add", "boss", "--role", "manager", "--password-stdin"],
            "kort\n",
            "use at least 10 characters",
        ),
        (
            ["staff", "add", "boss", "--role", "manager", "--password-stdin"],
            "\n",
            "ingen adgangskode på standard input",
        ),
        (["staff", "passwd", "nobody", "--password-stdin"], "lang nok kode\n", "hotline staff list"),
        (["staff", "disable", "nobody"], "", "der er ingen konto med brugernavnet nobody"),
    ],
)
def test_staff_commands_refuse_clearly_in_danish_and_english(
    rostered: Flask, runner: HotlineRunner, args: list[str], stdin: str, expected: str
) -> None:
    result = runner.invoke(args, input=stdin)
    assert result.exit_code == 1
    assert expected in result.output
    assert "Traceback" not in result.output


def test_staff_passwd_disable_and_list(staffed: Flask, runner: HotlineRunner) -> None:
    manager = runner.invoke(
        ["staff", "add", "carl", "--role", "manager", "--password-stdin"], input="lederens kode\n"
    )
    assert manager.exit_code == 0, manager.output
    assert (
        runner.invoke(["staff", "passwd", "anna", "--password-stdin"], input="helt ny kode\n").exit_code == 0
    )
    assert sign_in(staffed, "anna", "helt ny kode").outcome is Outcome.SIGNED_IN
    disabled = runner.invoke(["staff", "disable", "carl"])
    assert "kontoen carl er spærret" in disabled.output
    listing = runner.invoke(["staff", "list"]).output.splitlines()
    assert listing[0].startswith("anna") and "rådgiver (advisor)" in listing[0] and "anna" in listing[0]
    assert listing[1].startswith("carl") and "spærret (disabled)" in listing[1]

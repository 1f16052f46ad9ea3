"""`hotline staff add|passwd|disable|list`: the staff console's accounts (docs/console.md).

A password is read from the terminal twice (not echoed), or from standard input with `--password-stdin` (one
line, for scripts). Exit codes: 0 done; 1 refused (the reason printed, in Danish and English); 2 bad usage.
"""

from __future__ import annotations

import sys

import click

from hotline.cli.common import fail, open_runtime
from hotline.services import staff_accounts
from hotline.services.staff_accounts import AccountError, Role
from routing.wallclock import COPENHAGEN
from routing.wording.catalogue import both, ref


def _refused(error: AccountError) -> None:
    fail([both(error.message_id, **error.values)], 1)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            fail([both("account.error.empty_stdin")], 1)
        return line
    first = click.prompt(both("account.prompt.password"), hide_input=True)
    second = click.prompt(both("account.prompt.repeat"), hide_input=True)
    if first != second:
        fail([both("account.error.passwords_differ")], 1)
    return str(first)


@click.group()
def staff() -> None:
    """Accounts for the staff console: add, new password, disable, list."""


@staff.command("add")
@click.argument("username")
@click.option(
    "--name", default="", help="The name shown in the console (default: the advisor's, or USERNAME)."
)
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.ADVISOR.value,
    show_default=True,
    help=(
        "advisor: the queue and texts; manager: also rosters; admin: also accounts; "
        "dpo: the data-protection officer, reads the audit log and nothing else."
    ),
)
@click.option(
    "--advisor", "advisor_id", default=None, help="The roster advisor's id (needed for an advisor)."
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (one line).")
@click.option(
    "--no-password",
    is_flag=True,
    help="No password: the account signs in only with OpenID Connect (USERNAME is the provider's username).",
)
def add(
    username: str, name: str, role: str, advisor_id: str | None, password_stdin: bool, no_password: bool
) -> None:
    """Add an account that signs in with USERNAME and a password (or only with OpenID Connect)."""
    if no_password and password_stdin:
        raise click.UsageError("--no-password and --password-stdin exclude each other")
    password = None if no_password else _password(password_stdin)
    with open_runtime() as runtime, runtime.sessions.begin() as session:
        try:
            account = staff_accounts.create(
                session,
                username=username,
                name=name,
                role=Role(role),
                password=password,
                advisor_id=advisor_id,
            )
        except AccountError as error:
            _refused(error)
        done = both("account.added", username=account.username, role=ref(Role(role).message_id))
    click.echo(done)


@staff.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (one line).")
def passwd(username: str, password_stdin: bool) -> None:
    """Give USERNAME a new password (also unlocks it and ends its sessions)."""
    password = _password(password_stdin)
    with open_runtime() as runtime, runtime.sessions.begin() as session:
        try:
            account = staff_accounts.set_password(session, username, password)
        except AccountError as error:
            _refused(error)
        done = both("account.password_set", username=account.username)
    click.echo(done)


@staff.command("disable")
@click.argument("username")
def disable(username: str) -> None:
    """Disable USERNAME: it cannot sign in, and its open sessions end at their next request."""
    with open_runtime() as runtime, runtime.sessions.begin() as session:
        try:
            account = staff_accounts.disable(session, username)
        except AccountError as error:
            _refused(error)
        done = both("account.disabled", username=account.username)
    click.echo(done)


@staff.command("list")
def list_command() -> None:
    """Every account: username, role, roster advisor, state."""
    from hotline.db.models import utcnow

    now = utcnow()
    with open_runtime() as runtime, runtime.sessions() as session:
        rows = staff_accounts.accounts(session)
        if not rows:
            click.echo(both("account.list.none"))
            return
        for account in rows:
            state = []
            if not account.active:
                state.append(both("account.list.inactive"))
            if account.locked_until is not None and account.locked_until > now:
                until = f"{account.locked_until.astimezone(COPENHAGEN):%H:%M}"
                state.append(both("account.list.locked", until=until))
            role = both(Role(account.role).message_id)
            click.echo(
                f"{account.username:<24} {role:<28} {account.advisor_id or '-':<16} {account.name}"
                + (f"  [{'; '.join(state)}]" if state else "")
            )

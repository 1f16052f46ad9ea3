"""`hotline relatives export|erase NUMBER`: a relative's data exported or erased from the command line, through the
same services as the console's Persondata page (hotline.services.subject_access, subject_erasure), each request
recorded in `data_requests` and the audit log under the operating-system user ("cli:<user>").

Exit codes: 0 done; 1 refused (no such relative, or the number is in use this minute); 2 bad usage.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click

from hotline.cli.common import fail, open_runtime
from hotline.db.models import utcnow
from hotline.services import subject_access, subject_erasure
from hotline.services.pseudonyms import pseudonym_key
from routing.numbers import mask_number, normalize_number
from routing.wording.catalogue import both


def _number(raw: str) -> str:
    number = normalize_number(raw)
    if number is None:
        fail([both("relatives.cli.not_a_number")], 2)
    return number


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


@click.group()
def relatives() -> None:
    """A relative's data, by phone number: export it or erase it (GDPR)."""


@relatives.command("export")
@click.argument("number")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "csv"]),
    default="json",
    show_default=True,
    help="json: one document; csv: a zip of one CSV per table.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file (default: standard output; a zip needs --output).",
)
def export(number: str, fmt: str, output: Path | None) -> None:
    """Everything held about the relative with NUMBER."""
    if fmt == "csv" and output is None:
        raise click.UsageError("--format csv writes a zip: give --output FILE")
    wanted = _number(number)
    with open_runtime() as runtime, runtime.sessions.begin() as session:
        relative = subject_access.find(session, wanted)
        if relative is None:
            fail([both("relatives.cli.not_found", number=mask_number(wanted))], 1)
        body = subject_access.export(
            session,
            relative,
            fmt=fmt,
            key=pseudonym_key(runtime),
            actor=_actor(),
            account_id=None,
            now=utcnow(),
        )
    if output is None:
        sys.stdout.buffer.write(body + b"\n")
    else:
        output.write_bytes(body)


@relatives.command("erase")
@click.argument("number")
@click.option("--yes", is_flag=True, help="Erase without asking (required when not at a terminal).")
def erase(number: str, yes: bool) -> None:
    """Erase the data of the relative with NUMBER here, and queue Twilio's copies; open callbacks are cancelled
    first, an opt-out (STOP) is kept."""
    wanted = _number(number)
    if not yes and not click.confirm(both("relatives.cli.confirm", number=mask_number(wanted))):
        fail([both("relatives.cli.not_erased")], 1)
    with open_runtime() as runtime, runtime.sessions.begin() as session:
        relative = subject_access.find(session, wanted)
        if relative is None:
            fail([both("relatives.cli.not_found", number=mask_number(wanted))], 1)
        try:
            done = subject_erasure.erase(
                session, relative, key=pseudonym_key(runtime), actor=_actor(), account_id=None, now=utcnow()
            )
        except subject_erasure.ErasureRefused:
            fail([both("console.gdpr.error.busy")], 1)
    click.echo(both("relatives.cli.erased", request=done.request_id, queued=done.twilio_queued))

"""The `hotline` command: one group, its commands in one module per group of commands."""

from __future__ import annotations

import click

from hotline.cli.callbacks import callbacks
from hotline.cli.check import check, fallback_twiml
from hotline.cli.database import db
from hotline.cli.erasures import erasures_command
from hotline.cli.flows import flows
from hotline.cli.phone import call
from hotline.cli.relatives import relatives
from hotline.cli.roster import oncall, roster
from hotline.cli.serve import serve, worker
from hotline.cli.sms import outbox_command, sms_command
from hotline.cli.staff import staff


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Pårørendelinjen: the hotline for relatives."""


for command in (
    serve,
    worker,
    db,
    check,
    fallback_twiml,
    callbacks,
    roster,
    oncall,
    call,
    flows,
    sms_command,
    outbox_command,
    erasures_command,
    staff,
    relatives,
):
    main.add_command(command)

"""`hotline erasures`: Twilio's copies of purged personal data, and whether they are gone yet."""

from __future__ import annotations

import click

from hotline.cli.common import open_runtime
from hotline.db.models import utcnow
from hotline.jobs import erasure as erase_job
from hotline.services import erasure
from routing.wallclock import COPENHAGEN

KIND_NAMES = {
    "recording": "optagelser (recordings)",
    "message": "sms-tekster (texts)",
    "call": "opkald (calls)",
}


@click.command("erasures")
@click.option(
    "--retry-failed", is_flag=True, help="Queue the refused erasures again (after fixing the cause)."
)
@click.option(
    "--run", "run_now", is_flag=True, help="Work the queue once now instead of waiting for the worker."
)
def erasures_command(retry_failed: bool, run_now: bool) -> None:
    """What the nightly purge asked Twilio to erase: done, still waiting, or refused (with Twilio's reason)."""
    with open_runtime() as runtime:
        if retry_failed:
            with runtime.sessions.begin() as session:
                again = erasure.retry_failed(session, utcnow())
            click.echo(f"sat i kø igen (queued again): {again}")
        if run_now:
            report = erase_job.erase_due(runtime, utcnow())
            done = ", ".join(f"{outcome} {count}" for outcome, count in sorted(report.outcomes.items()))
            click.echo(f"kørt nu (run now): {done or 'intet at slette (nothing due)'}")
        with runtime.sessions() as session:
            summary = erasure.counts(session)
            if not summary.by_kind_and_outcome:
                click.echo("intet er sendt til sletning hos Twilio endnu (nothing queued for erasure yet)")
                return
            click.echo(f"{'slags (kind)':26}  {'tilstand (state)':16}  antal (count)")
            for (kind, state), count in sorted(summary.by_kind_and_outcome.items()):
                click.echo(f"{KIND_NAMES.get(kind, kind):26}  {state:16}  {count}")
            for row in summary.failed:
                when = row.done_at.astimezone(COPENHAGEN).strftime("%Y-%m-%d %H:%M") if row.done_at else "-"
                click.echo(f"afvist (refused) {when}  {row.kind} {row.sid}: {row.last_error}")

"""`hotline erasures`: Twilio's copies of purged personal data, and whether they are gone yet."""

from __future__ import annotations

import click

from hotline.cli.common import open_runtime
from hotline.db.models import utcnow
from hotline.jobs import erasure as erase_job
from hotline.services import erasure
from hotline.transport.base import ERASABLE_KINDS
from routing.wallclock import COPENHAGEN
from routing.wording.catalogue import both


def kind_name(kind: str) -> str:
    """What Twilio keeps, in staff's words: "optagelser (recordings)"; an unknown kind as itself."""
    return both(f"erasure.kind.{kind}") if kind in ERASABLE_KINDS else kind


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
            click.echo(f"{both('erasure.queued_again')}: {again}")
        if run_now:
            report = erase_job.erase_due(runtime, utcnow())
            done = ", ".join(f"{outcome} {count}" for outcome, count in sorted(report.outcomes.items()))
            click.echo(f"{both('erasure.run_now')}: {done or both('erasure.nothing_due')}")
        with runtime.sessions() as session:
            summary = erasure.counts(session)
            if not summary.by_kind_and_outcome:
                click.echo(both("erasure.none_queued"))
                return
            click.echo(f"{both('label.kind'):26}  {both('label.state'):16}  {both('label.count')}")
            for (kind, state), count in sorted(summary.by_kind_and_outcome.items()):
                click.echo(f"{kind_name(kind):26}  {state:16}  {count}")
            for row in summary.failed:
                when = row.done_at.astimezone(COPENHAGEN).strftime("%Y-%m-%d %H:%M") if row.done_at else "-"
                click.echo(f"{both('erasure.refused')} {when}  {row.kind} {row.sid}: {row.last_error}")

"""Managers' commands: `hotline roster import|export|gaps|feeds|revoke-feed` and `hotline oncall`.

Exit codes: 0 done; 1 the roster file has problems, there is no roster yet, or the database cannot be used;
2 bad usage or configuration; 3 `roster gaps` found gaps (so a nightly job can raise the alarm).
"""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session

from hotline.cli.common import fail, open_runtime
from hotline.services import relatives, rosters
from hotline.services.links import ALL_ID, current_feed_url, revoke
from hotline.services.oncall import chain_at, chain_for, coverage_hours
from routing.chain import Reason
from routing.gaps import find_gaps
from routing.numbers import mask_number, normalize_number
from routing.roster import Roster
from routing.roster_file import RosterFileError, dump_roster
from routing.wallclock import COPENHAGEN, wall_to_utc
from routing.wording.catalogue import aside, both, da

GAPS_FOUND = 3


def _roster_or_fail(session: Session) -> Roster:
    roster = rosters.current_roster(session)
    if roster is None:
        fail([f"{both('roster.none_imported')}; run: hotline roster import FILE"], 1)
    return roster


class LocalInstant(click.ParamType[datetime, Any]):
    """An ISO 8601 time; without an offset it is Copenhagen wall-clock time (by the roster's DST rules)."""

    name = "ISO-8601"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            parsed = datetime.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(
                f"{value!r} is not an ISO 8601 time; write e.g. 2026-11-03T15:30 (Copenhagen time) "
                "or 2026-11-03T14:30+00:00",
                param,
                ctx,
            )
        if parsed.tzinfo is None:  # as in roster files: a missing March time means 03:00
            return wall_to_utc(parsed.date(), parsed.time())
        return parsed.astimezone(UTC)


INSTANT = LocalInstant()


def _now() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0)


@click.group()
def roster() -> None:
    """The on-call roster (vagtplanen): import, export, gaps, calendar feeds. See docs/roster.md."""


@roster.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", "actor", default=None, help="Who imports (kept with the version); default: your login.")
def import_command(file: Path, actor: str | None) -> None:
    """Make FILE the roster in force, all or nothing.

    Exit 0: imported, and the new version number is printed. Exit 1: the file has problems; every problem is
    printed as file:line with the fix, and nothing is changed.
    """
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        fail([f"{file}: byte {exc.start} is not UTF-8; save the file as UTF-8 and import it again"], 1)
    with open_runtime() as runtime:
        try:
            with runtime.sessions.begin() as session:
                new = rosters.import_roster(session, text, source_name=str(file), actor=actor or _login())
                version = rosters.current_version(session)
                assert version is not None
                version_id = version.id
            hours = coverage_hours(runtime.settings)
        except RosterFileError as exc:
            refused = both("roster.import.refused")
            problems = both("roster.import.problems", num=len(exc.problems))
            click.echo(f"hotline: {file}: {refused}; {problems}:", err=True)
            fail(exc.problems, 1)
    counts = (
        f"{len(new.advisors)} {both('roster.advisors')}, {len(new.shifts)} {both('roster.shifts')}, "
        f"{len(new.overrides)} {both('roster.overrides')}"
    )
    click.echo(f"{both('roster.import.done')}: {counts}")
    click.echo(both("roster.import.version", version=version_id))
    start = _now()
    gaps = find_gaps(new, start, start + timedelta(days=14), hours)
    if gaps:
        ahead = both("roster.gaps.ahead", num=len(gaps), days=14)
        click.echo(
            f"{both('roster.gaps.warning')}: {ahead}, {both('label.first')} {gaps[0].describe()}; "
            f"{both('label.see')}: hotline roster gaps"
        )


def _login() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name in a bare container
        return "cli"


@roster.command("export")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout."
)
@click.option("--original", is_flag=True, help="The file exactly as imported, comments and all.")
def export_command(output: Path | None, original: bool) -> None:
    """Print the roster in force as a roster file; importing it gives the same schedule. Exit 1: none yet."""
    with open_runtime() as runtime, runtime.sessions() as session:
        current = _roster_or_fail(session)
        version = rosters.current_version(session)
        assert version is not None
        text = version.content if original else dump_roster(current)
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    output.write_text(text, encoding="utf-8")
    click.echo(both("roster.export.written", version=version.id, path=output))


@roster.command("gaps")
@click.option(
    "--days", type=click.IntRange(1, 366), default=14, show_default=True, help="How many days ahead to look."
)
@click.option("--from", "start", type=INSTANT, default=None, help="Start (default: now); see above.")
def gaps_command(days: int, start: datetime | None) -> None:
    """List every stretch in the next DAYS days when nobody is on call as primary or backup (a manager alone
    does not count), one line each in Copenhagen time. Coverage hours: around the clock (24/7).

    --from takes ISO 8601; without an offset it is Copenhagen time (2026-10-24T22:00).

    Exit 0: no gaps ("ingen huller (no gaps)"). Exit 3: gaps were found and listed, so a nightly job can alert
    on a non-zero exit. Exit 1: no roster imported, or the database cannot be used.
    """
    begin = start or _now()
    local = begin.astimezone(COPENHAGEN)
    end = wall_to_utc(local.date() + timedelta(days=days), local.time())  # N calendar days, DST or not
    with open_runtime() as runtime, runtime.sessions() as session:
        hours = coverage_hours(runtime.settings)
        found = find_gaps(_roster_or_fail(session), begin, end, hours)
    a, z = begin.astimezone(COPENHAGEN), end.astimezone(COPENHAGEN)
    within = both("roster.coverage.always" if not hours.windows else "roster.coverage.hours")
    span = f"{a:%Y-%m-%d %H:%M %Z} → {z:%Y-%m-%d %H:%M %Z}, {within}"
    if not found:
        click.echo(f"{both('roster.gaps.none')}: {span}")
        return
    click.echo(f"{both('roster.gaps.found', num=len(found))}: {span}")
    for gap in found:
        click.echo(f"  {both('roster.gap')}: {gap.describe()}")
    sys.exit(GAPS_FOUND)


@roster.command("feeds")
def feeds_command() -> None:
    """Print the calendar (iCalendar) URL of each advisor, each team and the whole hotline.

    The URLs are secret: anyone with one can read that calendar. They are signed with HOTLINE_SECRET_KEY
    (in the offline demo without it: instance/demo_signing_secret); changing the key retires them all, and
    `hotline roster revoke-feed` retires one. An inactive advisor's feed does not work, so none is printed.
    """
    with open_runtime() as runtime, runtime.sessions() as session:
        current = _roster_or_fail(session)
        click.echo(f"{both('roster.feeds.advisors')}:")
        for a in current.advisors:
            if a.active:
                click.echo(f"  {a.id:<12} {current_feed_url(session, runtime, 'advisor', a.id)}  {a.name}")
            else:
                click.echo(f"  {a.id:<12} -  {a.name} {aside('roster.feeds.inactive')}")
        if current.teams:
            click.echo(f"{da('roster.feeds.teams')}:")
            for t in current.teams:
                click.echo(f"  {t.id:<12} {current_feed_url(session, runtime, 'team', t.id)}  {t.name}")
        click.echo(f"{both('roster.feeds.everyone')}:")
        click.echo(f"  {da('roster.feeds.all'):<12} {current_feed_url(session, runtime, 'all', ALL_ID)}")
        settings = runtime.settings
    if not settings.secret_key:
        click.echo(f"hotline: {both('roster.feeds.demo_urls')}", err=True)
    if not settings.public_url:
        click.echo(f"hotline: {both('roster.feeds.public_url')}", err=True)


@roster.command("revoke-feed")
@click.argument("advisor", required=False)
@click.option("--team", default=None, help="Revoke this team's feed instead of an advisor's.")
@click.option("--everyone", is_flag=True, help="Revoke the whole hotline's feed instead of an advisor's.")
def revoke_feed_command(advisor: str | None, team: str | None, everyone: bool) -> None:
    """Retire one calendar feed URL at once and print the new one.

    ADVISOR: that advisor's feed, and the staff page links in texts already sent to them (a lost phone, a link
    sent to the wrong person; an advisor made inactive or removed by an import loses theirs without this).
    --team TEAM or --everyone: that shared feed (after someone who had it leaves the team). Every other feed
    keeps working. Exit 0: revoked; 1: no roster, or no such advisor or team; 2: say which one.
    """
    chosen = [c for c in (advisor is not None, team is not None, everyone) if c]
    if len(chosen) != 1:
        raise click.UsageError("name one advisor, or give --team TEAM, or --everyone")
    if advisor is not None:
        kind, ident = "advisor", advisor
    elif team is not None:
        kind, ident = "team", team
    else:
        kind, ident = "all", ALL_ID
    with open_runtime() as runtime, runtime.sessions.begin() as session:
        current = _roster_or_fail(session)
        known = current.has_advisor(ident) if kind == "advisor" else any(t.id == ident for t in current.teams)
        if kind != "all" and not known:
            fail([both("roster.revoke.unknown", kind=kind, ident=ident)], 1)
        new = revoke(session, kind, ident, datetime.now(UTC))
        url = current_feed_url(session, runtime, kind, ident)
        active = kind != "advisor" or current.advisor(ident).active
    click.echo(both("roster.revoke.done", ident=ident, version=new))
    if active:
        click.echo(f"  {url}")
    else:
        click.echo(f"  {aside('roster.feeds.inactive')}")


@click.command("oncall")
@click.option("--at", type=INSTANT, default=None, help="When (default: now); see above.")
@click.option("--reason", type=click.Choice(["acute", "question"]), default="acute", show_default=True)
@click.option(
    "--language",
    default=None,
    help="The caller's language (default: the relative's, else languages.default).",
)
@click.option("--relative", default=None, help="The caller's number; their contact person is tried first.")
def oncall(at: datetime | None, reason: Reason, language: str | None, relative: str | None) -> None:
    """Print whom a call would ring, in order, and why.

    --at takes ISO 8601; without an offset it is Copenhagen time (2026-11-03T15:30, or "2026-11-03 15:30").
    Advisors busy on a call are left out only for the current moment (no --at): busy is a fact about now.
    Exit 0 (an empty chain is an answer: the call goes to the callback queue); exit 1: no roster imported.
    """
    number = None
    if relative is not None:
        number = normalize_number(relative)
        if number is None:
            raise click.BadParameter(
                f"{relative!r} is not a phone number; write e.g. +45 67 12 34 56", param_hint="--relative"
            )
    with open_runtime() as runtime, runtime.sessions() as session:
        settings = runtime.settings
        current = _roster_or_fail(session)
        known = relatives.find(session, number)
        contact = relatives.contact_person(known)
        lang = (language or (known.language if known else None) or settings.file.languages.default).lower()
        if lang not in settings.file.languages.enabled:
            enabled = ", ".join(settings.file.languages.enabled)
            raise click.BadParameter(
                f"{lang!r} is not an enabled language; use one of {enabled}", param_hint="--language"
            )
        if at is None:
            chain = chain_for(
                session,
                settings,
                at=datetime.now(UTC),
                reason=reason,
                language=lang,
                contact_person_id=contact,
            )
        else:
            chain = chain_at(
                current, settings, at=at, reason=reason, language=lang, contact_person_id=contact
            )
    if number is not None:
        who = f"{both('label.contact_person')}: {contact}" if contact else both("oncall.no_contact_person")
        status = both("oncall.relative.known" if known else "oncall.relative.unknown")
        click.echo(f"{both('oncall.relative')} {mask_number(number)}: {status}, {who}")
    for line in chain.explain():
        click.echo(line)

"""`hotline sms` (text a running hotline as a relative would) and `hotline outbox` (what the hotline sends)."""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import click
from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from hotline.cli.common import fail, open_runtime, settings_or_exit, unreachable
from hotline.config.settings import Settings
from hotline.db.models import Message, OutboxText
from hotline.runtime import DEMO_SECRET_FILE, Runtime
from routing.numbers import mask_number, normalize_number
from routing.wallclock import COPENHAGEN
from routing.wording.catalogue import aside, both, da

DEMO_ACCOUNT_SID = "AC" + "0" * 32


def printable(text: str) -> str:
    """`text` safe for a terminal: control, formatting and direction characters shown as \\uXXXX escapes, so a
    relative's text can neither move the cursor nor reorder what staff read."""
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in text)


def _signing_secret(settings: Settings) -> str:
    if settings.twilio_auth_token:
        return settings.twilio_auth_token
    path = settings.instance_path / DEMO_SECRET_FILE
    try:
        return path.read_text().strip()
    except OSError:
        fail([f"{path} does not exist: start the demo first with `hotline serve` (it creates the secret)"], 1)


@click.command("sms")
@click.option("--from", "from_", required=True, help="The relative's number, e.g. +4567123456.")
@click.option(
    "--url",
    default=None,
    help="The running hotline (default: HOTLINE_PUBLIC_URL, else http://127.0.0.1:<HOTLINE_PORT or 8000>).",
)
@click.option("--wait", type=float, default=3.0, show_default=True, help="Seconds to wait for the reply.")
@click.argument("text")
def sms_command(from_: str, url: str | None, wait: float, text: str) -> None:
    """Send TEXT to a running hotline as an incoming text from --from (signed as Twilio signs) and print the
    reply the hotline queued (read from the database the hotline uses)."""
    settings = settings_or_exit()
    url = url or settings.base_url
    number = normalize_number(from_)
    if number is None:
        fail([f"--from {from_!r} is not a phone number; write it in E.164 form, e.g. +4567123456"])
    sid = "SM" + uuid.uuid4().hex
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": settings.twilio_account_sid or DEMO_ACCOUNT_SID,
        "From": number,
        "To": settings.file.service.hotline_number,
        "Body": text,
        "NumMedia": "0",
    }
    target = url.rstrip("/") + "/twilio/sms"
    signed_url = (settings.public_url + "/twilio/sms") if settings.public_url else target
    signature = RequestValidator(_signing_secret(settings)).compute_signature(signed_url, params)
    request = urllib.request.Request(
        target,
        data=urllib.parse.urlencode(params).encode(),
        headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        fail([f"the hotline at {url} answered HTTP {error.code}; is --url right and the secret the same?"], 1)
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        fail([unreachable(url, reason, both("cli.start_hint", command="`hotline serve`"))], 1)
    click.echo(f"{both('sms.sent')} {sid} {da('sms.from', number=mask_number(number))}: HTTP {status}")
    with open_runtime() as runtime:
        replies = _await_replies(runtime, sid, wait)
    if not replies:
        click.echo(both("sms.no_reply"))
        sys.exit(0)
    for row, body in replies:
        state = f"{row.state} {row.failure_code}" if row.state == "refused" else row.state
        click.echo(f"{both('sms.reply')} [{row.purpose}, {state}]: {printable(body)}")


def _await_replies(runtime: Runtime, sid: str, wait: float) -> list[tuple[OutboxText, str]]:
    """The replies queued for the text `sid` (written in the same transaction as the text, so soon there)."""
    deadline = time.monotonic() + wait
    while True:
        with runtime.sessions() as session:
            inbound = session.scalars(select(Message).where(Message.message_sid == sid)).one_or_none()
            rows = (
                session.scalars(select(OutboxText).where(OutboxText.in_reply_to_id == inbound.id)).all()
                if inbound is not None
                else []
            )
            found = [(row, _body(session, row)) for row in rows]
        if found or time.monotonic() >= deadline:
            return found
        time.sleep(0.2)


def _body(session: Session, row: OutboxText) -> str:
    if row.body is not None:
        return row.body
    message = session.get(Message, row.message_id) if row.message_id else None
    if message is not None and message.body is not None:
        return message.body
    if row.state == "refused":
        return aside("sms.body_refused")
    return aside("sms.body_later") if row.body_purged_at is None else aside("sms.body_purged")


@click.command("outbox")
@click.option("--limit", type=int, default=20, show_default=True, help="How many of the newest texts.")
@click.option(
    "--state",
    type=click.Choice(["pending", "sending", "sent", "failed", "cancelled", "refused"]),
    default=None,
    help="Only texts in this state (refused: stopped by the caps against SMS pumping).",
)
@click.option("--bodies/--no-bodies", default=None, help="Show the texts (default: in demo mode only).")
def outbox_command(limit: int, state: str | None, bodies: bool | None) -> None:
    """The newest outbound texts and their states (times are Copenhagen time; numbers masked)."""
    with open_runtime() as runtime:
        _list_outbox(runtime, limit, state, runtime.settings.demo_mode if bodies is None else bodies)


def _list_outbox(runtime: Runtime, limit: int, state: str | None, show: bool) -> None:
    with runtime.sessions() as session:
        query = select(OutboxText).order_by(OutboxText.id.desc()).limit(limit)
        if state:
            query = query.where(OutboxText.state == state)
        rows = session.scalars(query).all()
        if not rows:
            click.echo(both("outbox.empty"))
            return
        click.echo(
            f"{'id':>6}  {both('label.created'):16}  {both('label.to'):15}  {both('label.purpose'):20}  "
            f"{da('label.state'):9}  {da('label.attempts'):6}  {'twilio':11}  {both('label.failure')}"
        )
        for row in rows:
            message = session.get(Message, row.message_id) if row.message_id else None
            created = row.created_at.astimezone(COPENHAGEN).strftime("%Y-%m-%d %H:%M")
            click.echo(
                f"{row.id:>6}  {created:16}  {mask_number(row.to_number):15}  {row.purpose:20}  "
                f"{row.state:9}  {row.attempts:>6}  {(message.status if message else '-'):11}  "
                f"{row.failure_code or ''}"
            )
            if show:
                click.echo(f"        {printable(_body(session, row))}")

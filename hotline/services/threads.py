"""Text threads for the console: the inbox (unanswered first, each with how long it has waited against the answer
its receipt promised), one relative's thread with each text's delivery, and what an advisor does from it: check a
reply (guard, opt-out, segments and encoding), send it through the outbox, start from a quick reply in the
relative's language, or hand the thread to the callback queue.

An advisor's reply is their own words, not an automatic text: the outbox writes it uncapped (the caps against
SMS pumping hold automatic texts, and an advisor answering a relative must not be refused by them), but the
toll-fraud guard and the opt-out registry hold it as they hold every text, here before it is written and again
when it is sent. Bodies are shown to the advisor and never logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.config.settings import Settings
from hotline.db.models import CallbackRequest, Message, OutboxText, Relative
from hotline.services import callback_queue, opt_outs, outbox, relatives
from hotline.services.workload import ADVISOR_REPLY, waiting_texts
from routing.callbacks import Priority
from routing.guard import GuardDecision, check_destination
from routing.numbers import mask_number
from sms.segments import SegmentInfo, count_segments, first_non_gsm7
from sms.templates import render

log = logging.getLogger(__name__)

# Twilio takes at most 1,600 characters in one text.
MAX_REPLY_CHARS = 1600
# The quick replies an advisor can start from: relative-facing texts in sms/templates/<lang>.yaml.
QUICK_REPLIES = ("quick_call_us", "quick_we_call", "quick_thanks")
# Threads shown below the unanswered ones, newest first.
RECENT_THREADS = 30
# The newest texts a thread shows.
THREAD_LENGTH = 100


@dataclass(frozen=True)
class ThreadSummary:
    """One relative's thread in the inbox; `waiting_since` and `promised_by` are set while it is unanswered
    (`promised_by` None: no receipt promised a time, e.g. a keyword)."""

    relative_id: int
    masked_number: str
    language: str | None
    last_text_at: datetime
    waiting: int = 0
    waiting_since: datetime | None = None
    promised_by: datetime | None = None
    open_callback: bool = False

    @property
    def unanswered(self) -> bool:
        return self.waiting > 0


def inbox(session: Session, *, recent: int = RECENT_THREADS, only: int | None = None) -> list[ThreadSummary]:
    """Unanswered threads first, the earliest promise first (then the longest waiting); then the `recent` other
    threads with the newest texts. `only`: one relative's thread alone."""
    waiting_query = waiting_texts() if only is None else waiting_texts().where(Message.relative_id == only)
    waiting_rows = session.execute(
        waiting_query.with_only_columns(
            Message.relative_id,
            func.count(),
            func.min(Message.created_at),
            func.min(Message.answer_due_at),
            func.max(Message.created_at),
        ).group_by(Message.relative_id)
    ).all()
    waiting = {row[0]: row for row in waiting_rows}
    answered_query = (
        select(Message.relative_id, func.max(Message.created_at).label("at"))
        .where(Message.relative_id.is_not(None))
        .group_by(Message.relative_id)
        .order_by(func.max(Message.created_at).desc())
        .limit(recent)
    )
    if waiting:
        answered_query = answered_query.where(Message.relative_id.not_in(list(waiting)))
    answered_rows = session.execute(answered_query).all() if recent > 0 else []
    ids = list(waiting) + [row[0] for row in answered_rows]
    people = {r.id: r for r in session.scalars(select(Relative).where(Relative.id.in_(ids)))} if ids else {}
    callbacks = set(
        session.scalars(
            select(CallbackRequest.open_for_relative).where(CallbackRequest.open_for_relative.in_(ids))
        )
    )

    def summary(relative_id: int | None, last: datetime) -> ThreadSummary | None:
        person = people.get(relative_id) if relative_id is not None else None
        if person is None or relative_id is None:
            return None
        masked = mask_number(person.phone_number)
        return ThreadSummary(
            relative_id, masked, person.language, last, open_callback=relative_id in callbacks
        )

    unanswered = []
    for rid, count, since, due, last in waiting_rows:
        found = summary(rid, last)
        if found is not None:
            unanswered.append(replace(found, waiting=count, waiting_since=since, promised_by=due))
    unanswered.sort(
        key=lambda s: (
            s.promised_by is None,
            s.promised_by or s.waiting_since,
            s.waiting_since,
            s.relative_id,
        )
    )
    rest = [summary(rid, last) for rid, last in answered_rows]
    return unanswered + [s for s in rest if s is not None]


@dataclass(frozen=True)
class ThreadItem:
    """A text in a thread, in or out. `status`: Twilio's for a text Twilio has (`with_twilio`: queued, sent,
    delivered, undelivered...), else the outbox's state (pending, sending, refused, cancelled, failed). `kind`:
    relative, advisor (a reply from the console) or auto (receipts, keyword replies, callback texts)."""

    at: datetime
    kind: str
    body: str | None
    status: str
    with_twilio: bool
    purpose: str | None = None
    failure_code: str | None = None


@dataclass(frozen=True)
class Thread:
    relative: Relative
    masked_number: str
    language: str
    items: list[ThreadItem]
    summary: ThreadSummary | None
    opted_out: bool
    open_callback: CallbackRequest | None


def thread(session: Session, settings: Settings, relative_id: int) -> Thread | None:
    """One relative's texts, oldest first (the newest `THREAD_LENGTH`), with each text's delivery; None when
    the relative is unknown."""
    relative = session.get(Relative, relative_id)
    if relative is None:
        return None
    messages = session.execute(
        select(Message, OutboxText.purpose, OutboxText.created_at, OutboxText.id)
        .outerjoin(OutboxText, OutboxText.message_id == Message.id)
        .where(Message.relative_id == relative_id)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(THREAD_LENGTH)
    ).all()
    # In the order the conversation happened: a text we sent stands where it was written (a receipt right after
    # the question), not where the send job sent it; at the same instant, the relative's text comes first.
    ordered: list[tuple[tuple[datetime, int, int], ThreadItem]] = []
    for message, purpose, written_at, outbox_id in messages:
        inbound = message.direction == "inbound"
        item = ThreadItem(
            written_at or message.created_at,
            "relative" if inbound else _kind(purpose),
            message.body,
            message.status,
            True,
            purpose,
            message.error_code,
        )
        ordered.append(((item.at, 0 if inbound else 1, outbox_id or message.id), item))
    unsent = session.scalars(
        select(OutboxText)
        .where(OutboxText.relative_id == relative_id, OutboxText.message_id.is_(None))
        .order_by(OutboxText.created_at.desc())
        .limit(THREAD_LENGTH)
    ).all()
    for row in unsent:
        item = ThreadItem(
            row.created_at, _kind(row.purpose), row.body, row.state, False, row.purpose, row.failure_code
        )
        ordered.append(((row.created_at, 1, row.id), item))
    ordered.sort(key=lambda pair: pair[0])
    items = [item for _, item in ordered]
    summaries = inbox(session, recent=0, only=relative_id)
    return Thread(
        relative,
        mask_number(relative.phone_number),
        language_of(settings, relative),
        items[-THREAD_LENGTH:],
        summaries[0] if summaries else None,
        opt_outs.is_opted_out(session, relative.phone_number),
        callback_queue.open_request(session, relative.id),
    )


def _kind(purpose: str | None) -> str:
    return "advisor" if purpose == ADVISOR_REPLY else "auto"


def language_of(settings: Settings, relative: Relative) -> str:
    """The language the relative is written to in: the one remembered, else the hotline's default."""
    return relative.language or settings.file.languages.default


# --- replying ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplyCheck:
    """What the advisor sees before sending: how the text goes over the air and whether it may go at all.
    `problem` is why it may not ("empty", "too_long", "opted_out", or the guard's reason as "guard:<code>")."""

    segments: SegmentInfo
    chars: int
    first_ucs2: str | None
    opted_out: bool
    guard: GuardDecision
    problem: str | None

    @property
    def sendable(self) -> bool:
        return self.problem is None


def check_reply(session: Session, settings: Settings, relative: Relative, body: str) -> ReplyCheck:
    """Check a reply before it is written: segments and encoding (the character that makes it UCS-2), the
    opt-out registry and the toll-fraud guard."""
    text = body.strip()
    guard = check_destination(relative.phone_number, settings.file.destinations.policy())
    opted_out = opt_outs.is_opted_out(session, relative.phone_number)
    problem = None
    if not text:
        problem = "empty"
    elif len(text) > MAX_REPLY_CHARS:
        problem = "too_long"
    elif not guard.allowed:
        problem = f"guard:{guard.reason_code.value}"
    elif opted_out:
        problem = "opted_out"
    return ReplyCheck(count_segments(text), len(text), first_non_gsm7(text), opted_out, guard, problem)


class ReplyRefused(Exception):
    """The reply may not be written; `check.problem` says why."""

    def __init__(self, check: ReplyCheck) -> None:
        super().__init__(check.problem)
        self.check = check


def send_reply(
    session: Session,
    settings: Settings,
    relative: Relative,
    body: str,
    *,
    draft: str,
    now: datetime,
) -> OutboxText | None:
    """Write the advisor's reply to the outbox (uncapped; guard and opt-out checked first: ReplyRefused). The
    send job sends it and the status webhook tracks it to delivered. `draft` names this draft: the same draft
    sent twice (a double tap, a resent form) is written once; None then."""
    check = check_reply(session, settings, relative, body)
    if not check.sendable:
        raise ReplyRefused(check)
    newest = session.scalar(
        select(Message.id)
        .where(Message.relative_id == relative.id, Message.direction == "inbound")
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    row = outbox.enqueue(
        session,
        to=relative.phone_number,
        purpose=ADVISOR_REPLY,
        language=language_of(settings, relative),
        now=now,
        capped=False,
        body=body.strip(),
        relative_id=relative.id,
        in_reply_to_id=newest,
        dedup_key=f"{ADVISOR_REPLY}:{relative.id}:{draft[:64]}",
    )
    if row is not None:
        log.info(
            "advisor reply queued",
            extra={
                "outbox": row.id,
                "relative": relative.id,
                "segments": check.segments.segments,
                "encoding": check.segments.encoding,
            },
        )
    return row


def quick_replies(settings: Settings, language: str) -> dict[str, str]:
    """The quick replies in `language` (Danish where a translation lacks one), by template key."""
    values = outbox.common_values(settings)
    return {key: render(key, language, **values) for key in QUICK_REPLIES}


# --- handing a thread to the callback queue ---------------------------------------------------------------------


def to_callback(
    session: Session, settings: Settings, relative: Relative, *, actor: str, now: datetime
) -> callback_queue.Registration:
    """Turn the thread into a callback: the relative's open one, else a new one "as soon as possible" (the
    guard first: CallbackRefused; its "we will call you" text capped as every status text). The texts waiting
    are handed to it, so the queue answers them and the thread no longer counts as unanswered."""
    windows = [w.key for w in settings.file.callbacks.windows]
    registration = callback_queue.register(
        session,
        relative=relative,
        call_sid=None,
        priority=Priority.QUESTION,
        reason="question",
        language=language_of(settings, relative),
        window_key="asap" if "asap" in windows else windows[0],
        settings=settings.file.callbacks,
        assigned_advisor_id=relatives.contact_person(relative),
        now=now,
        actor=actor,
        policy=settings.file.destinations.policy(),
    )
    for message in session.scalars(waiting_texts().where(Message.relative_id == relative.id)):
        message.callback_id = registration.callback.id
    log.info(
        "thread turned into a callback",
        extra={
            "relative": relative.id,
            "callback": registration.callback.id,
            "new": registration.created,
        },
    )
    return registration

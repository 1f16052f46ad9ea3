"""Incoming texts: each joins its relative's thread, keywords act, and an automatic reply goes to the outbox.

Everything happens in the transaction that stores the text, so a text is answered exactly when it is stored, and
Twilio delivering the same MessageSid again (the webhook sees it as known) changes nothing. Automatic replies are
capped per number and in total where the outbox writes them (`services.outbox`, `sms.ratelimit`); a reply the caps
refuse is kept as refused, and the incoming text is always stored for the advisors, capped or not.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.config.settings import Settings
from hotline.db.models import CallbackRequest, Message, OutboxText, Relative
from hotline.services import callback_queue, opt_outs, outbox, relatives, rosters
from routing.callbacks import Priority
from routing.gaps import find_gaps
from routing.numbers import display_number, mask_number, normalize_number
from sms.keywords import Keyword, KeywordAction, classify
from sms.templates import render
from sms.timephrase import window_phrase

log = logging.getLogger(__name__)

# An automatic reply not sent within this long is dropped: "we answer before 18" must not arrive at 20.
REPLY_EXPIRY = timedelta(hours=2)
# How far ahead the roster is searched for the next advisor on shift.
ROSTER_HORIZON = timedelta(days=7)
BACKLOG_BATCH = 100
# Someone going off shift sooner than this cannot promise an answer; the next shift does.
MIN_TIME_TO_ANSWER = timedelta(minutes=30)

INFO_VALUES = {
    "offers": ("offers_url", None),
    "handbook": ("handbook_url", None),
    "network": ("network_url", None),
    "mentor": ("mentor_url", "mentor_phone"),
}


@dataclass(frozen=True)
class Handled:
    """What an incoming text did: its action, the reply written (a template key), and why none was."""

    action: str
    reply: str | None = None
    skipped: str | None = None


def handle(session: Session, settings: Settings, message: Message, now: datetime) -> Handled:
    """Act on a stored incoming text (keyword or question) and queue the automatic reply."""
    message.handled_at = now
    number = normalize_number(message.from_number) if message.from_number else None
    if number is None or number != message.from_number:
        # Withheld, alphanumeric or short-code senders cannot be answered or called: kept for the advisors.
        return Handled("question", skipped="no_number")
    relative, _ = relatives.find_or_create(session, number)
    message.relative_id = relative.id
    keyword = classify(message.body or "")
    language = relative.language or (keyword.language if keyword else None) or settings.file.languages.default
    reply = _Replier(session, settings, message, relative, language, now)
    if keyword is None:
        promise = answer_promise(session, settings, now)
        message.answer_due_at = promise.end  # what the console measures the wait against
        return reply.send("question", "received", {"when": promise.phrase(now, language)})
    return _keyword(session, settings, keyword, reply, relative, now)


def _keyword(
    session: Session, settings: Settings, keyword: Keyword, reply: _Replier, relative: Relative, now: datetime
) -> Handled:
    action = keyword.action
    number = relative.phone_number
    if action is KeywordAction.OPT_OUT:
        sid = reply.message.message_sid
        if not opt_outs.opt_out(session, number, source="keyword", now=now, message_sid=sid):
            return Handled(action.value, skipped="already_opted_out")  # confirmed once
        log.info("sms opt-out", extra={"from": mask_number(number)})
        return reply.send(action.value, "opt_out_confirmed", ignores_opt_out=True)
    if action is KeywordAction.OPT_IN:
        if opt_outs.opt_in(session, number):
            log.info("sms opt-in", extra={"from": mask_number(number)})
        return reply.send(action.value, "opt_in_confirmed")
    if action is KeywordAction.HELP:
        return reply.send(action.value, "help", ignores_opt_out=True)
    if action is KeywordAction.INFO:
        return reply.send(
            action.value, keyword.reply or f"info_{keyword.topic}", info_values(settings, keyword.topic)
        )
    open_request = callback_queue.open_request(session, relative.id)
    if open_request is not None:
        if action is KeywordAction.CALLBACK:
            reply.message.callback_id = open_request.id  # RING again: the open callback answers it
        return reply.send(
            action.value, "status_open", {"window": promised_window(open_request, now, reply.language)}
        )
    if action is KeywordAction.STATUS:
        return reply.send(action.value, "status_none")
    return _order_callback(session, settings, reply, relative, now)


def _order_callback(
    session: Session, settings: Settings, reply: _Replier, relative: Relative, now: datetime
) -> Handled:
    """RING / CALL: a callback in the next window (as soon as possible when configured); its registered text is
    the reply."""
    windows = [w.key for w in settings.file.callbacks.windows]
    try:
        registration = callback_queue.register(
            session,
            relative=relative,
            call_sid=None,
            priority=Priority.QUESTION,
            reason="question",
            language=reply.language,
            window_key="asap" if "asap" in windows else windows[0],
            settings=settings.file.callbacks,
            assigned_advisor_id=relatives.contact_person(relative),
            now=now,
            actor="relative:sms",
            policy=settings.file.destinations.policy(),
        )
    except callback_queue.CallbackRefused as refused:
        # Not a number the hotline may call (or text): no promise, and no reply; the text stays for the advisors.
        reason = refused.decision.reason_code.value
        log.warning("callback by text refused by the toll-fraud guard", extra={"reason": reason})
        return Handled("callback", skipped=f"guard:{reason}")
    callback, text = registration.callback, registration.text
    reply.message.callback_id = callback.id  # the queue answers this text now (the console's inbox)
    log.info(
        "callback ordered by text",
        extra={"callback": callback.id, "from": mask_number(relative.phone_number)},
    )
    if text is None:
        return Handled("callback", skipped="no_status_text")
    text.auto_reply, text.in_reply_to_id = True, reply.message.id
    if text.state == outbox.REFUSED:  # a cap refused it when the queue wrote it
        return Handled("callback", skipped=text.failure_code)
    skipped = reply.refusal()
    if skipped is not None:
        text.state, text.failure_code = outbox.CANCELLED, skipped
        return Handled("callback", skipped=skipped)
    text.body = outbox.word_callback_text(session, settings, text, now)
    return Handled("callback", reply=text.purpose)


class _Replier:
    """Writes the one automatic reply to an incoming text, within the opt-out registry; the outbox holds it
    against the caps."""

    def __init__(
        self,
        session: Session,
        settings: Settings,
        message: Message,
        relative: Relative,
        language: str,
        now: datetime,
    ) -> None:
        self.session, self.settings, self.message = session, settings, message
        self.relative, self.language, self.now = relative, language, now

    def refusal(self, *, ignores_opt_out: bool = False) -> str | None:
        """Why no automatic reply is written at all (the number opted out), or None."""
        number = self.relative.phone_number
        if not ignores_opt_out and opt_outs.is_opted_out(self.session, number):
            return "opted_out"
        return None

    def send(
        self,
        action: str,
        key: str,
        values: Mapping[str, object] | None = None,
        *,
        ignores_opt_out: bool = False,
    ) -> Handled:
        skipped = self.refusal(ignores_opt_out=ignores_opt_out)
        if skipped is not None:
            return Handled(action, skipped=skipped)
        body = render(key, self.language, **outbox.common_values(self.settings), **(values or {}))
        text = outbox.enqueue(
            self.session,
            to=self.relative.phone_number,
            purpose=key,
            language=self.language,
            now=self.now,
            capped=True,
            body=body,
            relative_id=self.relative.id,
            in_reply_to_id=self.message.id,
            auto_reply=True,
            ignores_opt_out=ignores_opt_out,
            dedup_key=f"reply:{self.message.id}",
            expires_at=self.now + REPLY_EXPIRY,
        )
        if text is not None and text.state == outbox.REFUSED:
            log.info("automatic reply refused by a cap", extra={"message_sid": self.message.message_sid})
            return Handled(action, skipped=text.failure_code)
        return Handled(action, reply=key)


def info_values(settings: Settings, topic: str | None) -> dict[str, object]:
    """{url} (and {phone}) for an information text, from config.yaml's `sms.info`."""
    url_key, phone_key = INFO_VALUES.get(topic or "", ("offers_url", None))
    info = settings.file.sms.info
    values: dict[str, object] = {"url": getattr(info, url_key)}
    if phone_key:
        values["phone"] = display_number(getattr(info, phone_key))
    return values


def queue_info_text(
    session: Session,
    settings: Settings,
    number: str,
    topic: str,
    language: str,
    now: datetime,
    *,
    dedup_key: str,
    keyed_in: bool = False,
) -> bool:
    """Queue the information text on `topic` (offers, handbook, network, mentor) asked for outside a text, e.g.
    in the call flow; False when the topic is unknown or a cap refused the text (`keyed_in`: the caller typed
    the number in). Not a reply to a text, but automatic all the same: it counts in the caps."""
    if topic not in INFO_VALUES:
        return False
    relative = relatives.find(session, number)
    body = render(f"info_{topic}", language, **outbox.common_values(settings), **info_values(settings, topic))
    text = outbox.enqueue(
        session,
        to=number,
        purpose=f"info_{topic}",
        language=language,
        now=now,
        capped=True,
        keyed_in=keyed_in,
        body=body,
        relative_id=relative.id if relative else None,
        dedup_key=dedup_key,
    )
    if text is None:  # a retried webhook: answer as the first time did
        text = session.scalars(select(OutboxText).where(OutboxText.dedup_key == dedup_key)).one()
    return text.state != outbox.REFUSED


def promised_window(callback: CallbackRequest, now: datetime, language: str) -> str:
    """When the open callback comes, as the relative would write it; an overdue one says "before the next hour"."""
    end = callback.due_at if callback.due_at > now else _next_whole_hour(now + MIN_TIME_TO_ANSWER)
    return window_phrase(min(callback.window_start, end), end, now, language)


@dataclass(frozen=True)
class Promise:
    """When the receipt says an advisor will answer: from `start` to `end` (a moment when they are equal, the
    next shift's start); `end` is the deadline the console measures the wait against."""

    start: datetime
    end: datetime

    def phrase(self, now: datetime, language: str) -> str:
        return window_phrase(self.start, self.end, now, language)


def answer_promise(session: Session, settings: Settings, now: datetime) -> Promise:
    """When an advisor will answer a text sent now, from the roster: before the next whole hour after the
    response time while someone is on shift (no later than the shift's end), else when the next shift starts."""
    roster = rosters.current_roster(session)
    horizon = now + ROSTER_HORIZON
    response = timedelta(minutes=settings.file.callbacks.response_minutes_question)
    gaps = find_gaps(roster, now, horizon) if roster is not None else []
    if gaps and gaps[0].start < now + MIN_TIME_TO_ANSWER and gaps[0].end < horizon:
        opens = gaps[0].end
        return Promise(opens, opens)
    limit = gaps[0].start if gaps and gaps[0].start > now else horizon
    deadline = min(_next_whole_hour(now + response), limit)
    return Promise(now - timedelta(seconds=1), deadline)


def answer_expected(session: Session, settings: Settings, now: datetime, language: str) -> str:
    """When an advisor will answer a text sent now, as the receipt says it: "i dag inden kl. 18" while someone
    is on shift, "i morgen tidlig kl. 7" when the next shift starts then."""
    return answer_promise(session, settings, now).phrase(now, language)


def _next_whole_hour(moment: datetime) -> datetime:
    """`moment` rounded up to the hour (Copenhagen's offsets are whole hours, so UTC hours are local hours)."""
    whole = moment.replace(minute=0, second=0, microsecond=0)
    return whole if whole == moment else whole + timedelta(hours=1)

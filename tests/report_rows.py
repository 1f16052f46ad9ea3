"""Report rows built by hand for the reports' tests (tests/hotline/test_reports.py and the browser walk in
tests/browser/test_reports.py): calls with their routing, callbacks with their transitions, texts with their
replies, each as the hotline itself would have written it, with numbers from the reserve series."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from hotline.db.models import Call, CallbackRequest, CallbackTransition, CallRouting, Message, OutboxText
from hotline.services import relatives


def number(i: int) -> str:
    return f"+45671{i:05d}"  # the reserve series for relatives (docs/testing.md)


class Rows:
    """Hand-built rows, with ids and sids of their own."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.n = 0

    def relative(self, i: int) -> int:
        relative, _ = relatives.find_or_create(self.session, number(i))
        return relative.id

    def call(
        self,
        at: datetime,
        *,
        who: int = 1,
        routed: bool = False,
        answered_after: float | None = None,
        language: str = "da",
        direction: str = "inbound",
    ) -> str:
        self.n += 1
        sid = f"CA{self.n:032d}"
        relative_id = self.relative(who)
        self.session.add(
            Call(
                call_sid=sid,
                direction=direction,
                from_number=number(who),
                to_number="+4568000000",
                status="completed",
                relative_id=relative_id,
                created_at=at,
                updated_at=at,
            )
        )
        if routed or answered_after is not None:
            self.session.add(
                CallRouting(
                    call_sid=sid,
                    relative_id=relative_id,
                    reason="question",
                    language=language,
                    chain="anna",
                    started_at=at,
                    connected_advisor_id="anna" if answered_after is not None else None,
                    connected_at=at + timedelta(seconds=answered_after)
                    if answered_after is not None
                    else None,
                )
            )
        return sid

    def callback(
        self,
        window: tuple[datetime, datetime],
        state: str,
        *,
        reached_at: datetime | None = None,
        due_at: datetime | None = None,
        retry_at: datetime | None = None,
        who: int = 2,
    ) -> int:
        relative_id = self.relative(who)
        start, end = window
        callback = CallbackRequest(
            relative_id=relative_id,
            phone_number=number(who),
            priority="normal",
            reason="question",
            language="da",
            window_key="picked",
            window_start=start,
            window_end=end,
            due_at=due_at or end,
            state=state,
            created_at=start - timedelta(hours=1),
            updated_at=start,
            next_attempt_at=retry_at,
        )
        self.session.add(callback)
        self.session.flush()
        self.session.add(
            CallbackTransition(
                callback_id=callback.id,
                from_state=None,
                to_state="scheduled",
                event="schedule",
                actor="t",
                at=start,
            )
        )
        if reached_at is not None:
            self.session.add(
                CallbackTransition(
                    callback_id=callback.id,
                    from_state="in_progress",
                    to_state="reached",
                    event="answered",
                    actor="t",
                    at=reached_at,
                )
            )
        return callback.id

    def text(
        self,
        at: datetime,
        due: datetime,
        *,
        who: int,
        reply_at: datetime | None = None,
        reply_state: str = "sent",
        handed: int | None = None,
    ) -> None:
        relative_id = self.relative(who)
        self.session.add(
            Message(
                direction="inbound",
                from_number=number(who),
                to_number="+4568000000",
                body="?",
                status="received",
                created_at=at,
                updated_at=at,
                relative_id=relative_id,
                answer_due_at=due,
                callback_id=handed,
            )
        )
        if reply_at is not None:
            self.session.add(
                OutboxText(
                    purpose="advisor_reply",
                    to_number=number(who),
                    language="da",
                    relative_id=relative_id,
                    state=reply_state,
                    created_at=reply_at,
                    updated_at=reply_at,
                )
            )

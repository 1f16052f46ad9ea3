"""The callback domain: when a callback is due and where it stands in the queue.

Windows live in `routing.callback_windows`, states and retries in `routing.callback_states`; both are
re-exported here so the web and job layers import everything about callbacks from this one module.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum

from routing.callback_states import (
    FINAL_STATES,
    RETRY_ACTOR,
    TRANSITIONS,
    Event,
    IllegalTransition,
    NoAnswerOutcome,
    RetryPolicy,
    State,
    Transition,
    after_no_answer,
    record,
    transition,
)
from routing.callback_windows import (
    DAY_ROLLOVER,
    MIN_REMAINING,
    QuietHours,
    WindowSlot,
    WindowSpec,
    resolve_window,
)
from routing.wallclock import to_utc

__all__ = [
    "DAY_ROLLOVER",
    "FINAL_STATES",
    "MIN_LEAD",
    "MIN_REMAINING",
    "RETRY_ACTOR",
    "TRANSITIONS",
    "Event",
    "IllegalTransition",
    "NoAnswerOutcome",
    "Priority",
    "QuietHours",
    "RetryPolicy",
    "State",
    "Transition",
    "WindowSlot",
    "WindowSpec",
    "after_no_answer",
    "due_time",
    "queue_key",
    "record",
    "resolve_window",
    "transition",
]


class Priority(StrEnum):
    """How urgent a callback is; acute ones are always worked first."""

    ACUTE = "acute"
    QUESTION = "question"


# The shortest time from now to a window's deadline: a callback ordered in the last minutes of its window
# must not be overdue (and escalate) the moment it is created. resolve_window's MIN_REMAINING normally keeps
# slots longer than this; the floor matters when an older slot is reused.
MIN_LEAD = timedelta(minutes=15)

# Sort rank per priority; lower is worked first.
_RANK = {Priority.ACUTE: 0, Priority.QUESTION: 1}


def due_time(
    priority: Priority | str,
    slot: WindowSlot,
    now: datetime,
    response_minutes: Mapping[str, int],
    *,
    min_lead: timedelta = MIN_LEAD,
    quiet: QuietHours | None = None,
) -> datetime:
    """The moment by which the callback must have been made; after it the callback is overdue.

    - As soon as possible: the slot's start (`now`, or later when the quiet hours moved it) plus the
      priority's response time from `response_minutes` (config.yaml, e.g. {"acute": 15, "question": 240}).
      With `quiet` (the slot was kept out of the quiet hours), never after the slot's end: a question is
      not owed, nor escalated as overdue, in the night.
    - A window the relative chose: the window's end, because that is what they were promised;
      but never earlier than `now + min_lead`.
    """
    level = _priority(priority)
    current = to_utc(now, "now")
    try:
        minutes = response_minutes[level.value]
    except KeyError:
        raise ValueError(
            f"response_minutes has no entry for priority {level.value!r}; "
            f"configure minutes for each of: {', '.join(p.value for p in Priority)}"
        ) from None
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
        raise ValueError(
            f"response_minutes[{level.value!r}] must be a positive whole number, not {minutes!r}"
        )
    if slot.asap:
        due = max(slot.start_utc, current) + timedelta(minutes=minutes)
        return min(due, slot.end_utc) if quiet is not None else due
    return max(slot.end_utc, current + min_lead)


def queue_key(
    priority: Priority | str, due_at: datetime, created_at: datetime
) -> tuple[int, datetime, datetime]:
    """Sort key for the callback queue: acute first, then earliest due, then earliest created.

    The same order in SQL: ORDER BY (priority = 'acute') DESC, due_at, created_at.
    """
    return (_RANK[_priority(priority)], to_utc(due_at, "due_at"), to_utc(created_at, "created_at"))


def _priority(value: Priority | str) -> Priority:
    try:
        return Priority(value)
    except ValueError:
        raise ValueError(
            f"unknown callback priority {value!r}; use one of: {', '.join(p.value for p in Priority)}"
        ) from None

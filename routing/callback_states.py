"""The life of a callback: its states, the events that move it, the retry policy, and the record of each step.

::

    requested   --schedule-->   scheduled
    scheduled   --reschedule--> scheduled
    scheduled   --start-->      in_progress
    in_progress --answered-->   reached
    in_progress --no_answer-->  not_reached
    in_progress --release-->    scheduled
    not_reached --retry-->      scheduled
    not_reached --reschedule--> scheduled
    requested, scheduled, not_reached --cancel--> cancelled

`reached` and `cancelled` are final. `not_reached` is final once the retry policy allows no further attempt
(`RetryPolicy.next_attempt_at` returns None); `after_no_answer` applies that rule, so the web and job layers
never decide it themselves. Every step is a `Transition` the database stores as the callback's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from routing.callback_windows import QuietHours, WindowSlot
from routing.wallclock import to_utc


class State(StrEnum):
    """Where a callback is; the value is what the database stores."""

    REQUESTED = "requested"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    REACHED = "reached"
    NOT_REACHED = "not_reached"
    CANCELLED = "cancelled"


class Event(StrEnum):
    """What happened to a callback."""

    SCHEDULE = "schedule"  # a slot and due time are set (before the caller hears the confirmation)
    RESCHEDULE = "reschedule"  # the relative or an advisor moves it to another slot
    START = "start"  # an advisor takes it and dials
    RELEASE = "release"  # the advisor hands it back without an outcome (taken by mistake, shift ended)
    ANSWERED = "answered"  # the relative was reached
    NO_ANSWER = "no_answer"  # no answer, busy or voicemail: one attempt used
    RETRY = "retry"  # the retry policy schedules another attempt
    CANCEL = "cancel"  # the relative or staff call it off


TRANSITIONS: dict[tuple[State, Event], State] = {
    (State.REQUESTED, Event.SCHEDULE): State.SCHEDULED,
    (State.REQUESTED, Event.CANCEL): State.CANCELLED,
    (State.SCHEDULED, Event.RESCHEDULE): State.SCHEDULED,
    (State.SCHEDULED, Event.START): State.IN_PROGRESS,
    (State.SCHEDULED, Event.CANCEL): State.CANCELLED,
    (State.IN_PROGRESS, Event.ANSWERED): State.REACHED,
    (State.IN_PROGRESS, Event.NO_ANSWER): State.NOT_REACHED,
    # Releasing is not an attempt: nobody was dialled, so the relative is still owed the call.
    (State.IN_PROGRESS, Event.RELEASE): State.SCHEDULED,
    (State.NOT_REACHED, Event.RETRY): State.SCHEDULED,
    # A relative nobody reached who calls again and picks a window asks for a new promise.
    (State.NOT_REACHED, Event.RESCHEDULE): State.SCHEDULED,
    # A relative who texts "no need any more" after a missed call closes it.
    (State.NOT_REACHED, Event.CANCEL): State.CANCELLED,
}

FINAL_STATES = frozenset({State.REACHED, State.CANCELLED})

# The actor recorded when the retry policy, not a person, moves a callback.
RETRY_ACTOR = "system:retry"


class IllegalTransition(ValueError):
    """An event that cannot happen in the callback's current state (a double click, a stale page, a bug)."""

    def __init__(self, state: State, event: Event, detail: str = "") -> None:
        self.state = state
        self.event = event
        allowed = sorted(e.value for (s, e) in TRANSITIONS if s is state)
        options = ", ".join(allowed) if allowed else "nothing: it is final"
        super().__init__(
            f"cannot {event.value} a callback that is {state.value}{detail}; "
            f"from {state.value} it can: {options}"
        )


def transition(state: State | str, event: Event | str) -> State:
    """The state a callback in `state` moves to on `event`; raises IllegalTransition if it cannot.

    This is the shape of the machine only. Whether a not_reached callback may still be retried is the
    retry policy's decision: use `after_no_answer` for that step.
    """
    current, happened = State(state), Event(event)
    try:
        return TRANSITIONS[(current, happened)]
    except KeyError:
        raise IllegalTransition(current, happened) from None


@dataclass(frozen=True)
class Transition:
    """One step in a callback's history, as the database stores it. `at` is UTC.

    Constructing one checks it against the machine, so an impossible history cannot be written.
    """

    from_state: State
    to_state: State
    event: Event
    actor: str
    at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", to_utc(self.at, "at"))
        if not self.actor:
            raise ValueError(
                "a transition needs an actor, such as 'advisor:17', 'relative' or 'system:retry'"
            )
        expected = transition(self.from_state, self.event)
        if expected is not State(self.to_state):
            raise IllegalTransition(State(self.from_state), Event(self.event), f" into {self.to_state}")
        object.__setattr__(self, "from_state", State(self.from_state))
        object.__setattr__(self, "to_state", expected)
        object.__setattr__(self, "event", Event(self.event))


def record(state: State | str, event: Event | str, *, actor: str, at: datetime) -> Transition:
    """Apply `event` to a callback in `state` and return the step to store; raises IllegalTransition."""
    return Transition(State(state), transition(state, event), Event(event), actor, at)


@dataclass(frozen=True)
class RetryPolicy:
    """How often a callback nobody answered is tried again.

    `max_attempts` counts every dialled attempt, the first included; attempts are `minutes_between` apart.
    """

    max_attempts: int = 3
    minutes_between: int = 30

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"retry policy: max_attempts must be at least 1, not {self.max_attempts}")
        if self.minutes_between < 0:
            raise ValueError(
                f"retry policy: minutes_between must not be negative, not {self.minutes_between}"
            )

    def next_attempt_at(
        self,
        attempts_made: int,
        last_attempt_at: datetime,
        slot: WindowSlot,
        quiet: QuietHours | None = None,
    ) -> datetime | None:
        """When to try again after `attempts_made` unanswered attempts, the last at `last_attempt_at`.

        None when no attempt is left, or when the next one would fall after a chosen window closes: the
        relative asked to be called in that window (they may be at work outside it), so staff follow up
        another way. An as-soon-as-possible slot's end is only the target for the first call, not a
        limit, so its retries run until the attempts are used. With `quiet` (a question whose window the
        relative did not pick), a retry that would fall in the quiet hours waits until they end.
        """
        if attempts_made < 1:
            raise ValueError(
                f"attempts_made counts attempts already made and must be at least 1, not {attempts_made}"
            )
        last = to_utc(last_attempt_at, "last_attempt_at")
        if attempts_made >= self.max_attempts:
            return None
        candidate = max(last + timedelta(minutes=self.minutes_between), slot.start_utc)
        if quiet is not None:
            candidate = quiet.end_after(candidate)
        if not slot.asap and candidate >= slot.end_utc:
            return None
        return candidate


@dataclass(frozen=True)
class NoAnswerOutcome:
    """The steps to store after an unanswered attempt, and when to try next (None: not_reached is final)."""

    transitions: tuple[Transition, ...]
    next_attempt_at: datetime | None

    @property
    def state(self) -> State:
        """The callback's state after the outcome."""
        return self.transitions[-1].to_state

    @property
    def final(self) -> bool:
        """True when no further attempt will be made."""
        return self.next_attempt_at is None


def after_no_answer(
    attempts_made: int,
    attempted_at: datetime,
    slot: WindowSlot,
    policy: RetryPolicy,
    *,
    actor: str,
    quiet: QuietHours | None = None,
) -> NoAnswerOutcome:
    """Record an unanswered attempt (in_progress → not_reached) and, if the policy allows, the retry.

    `attempts_made` includes the attempt that just failed. `actor` is whoever reported the outcome.
    """
    missed = record(State.IN_PROGRESS, Event.NO_ANSWER, actor=actor, at=attempted_at)
    when = policy.next_attempt_at(attempts_made, attempted_at, slot, quiet)
    if when is None:
        return NoAnswerOutcome((missed,), None)
    retry = record(State.NOT_REACHED, Event.RETRY, actor=RETRY_ACTOR, at=attempted_at)
    return NoAnswerOutcome((missed, retry), when)

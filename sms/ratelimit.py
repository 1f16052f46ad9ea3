"""Caps on automatic texts to relatives: pure decisions, given how many went out recently.

Automatic texts (receipts, keyword answers, information asked for on the phone, callback status texts) are what
SMS pumping abuses: someone texts, calls or spoofs many numbers to make the hotline send paid messages. Two caps
stop it, whatever caused the text: one per number per hour (a relative texting in a loop, two auto-responders
answering each other, a caller pressing "send me the handbook" again and again) and one for all numbers together
(an attack spread over many numbers). Texts an advisor writes, and staff texts to advisors, are not automatic and
are not limited here.

A number keyed in on the phone menu (a caller with a withheld number types one in) is not known to belong to the
caller: it gets at most a few texts and callbacks a day (`keyed_in_allowed`), so nobody can use the hotline to
harass a stranger.

The caller counts (sent or queued, this number and in total) and asks before each text. When the answer is no,
the text is kept as refused for staff to see, never dropped silently. A `GLOBAL_LIMIT` refusal is worth an alert
to operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DecisionReason(StrEnum):
    """Why an automatic reply was allowed or not."""

    WITHIN_LIMITS = "within_limits"
    NUMBER_LIMIT = "number_limit"
    GLOBAL_LIMIT = "global_limit"
    KEYED_IN_LIMIT = "keyed_in_limit"


@dataclass(frozen=True)
class ReplyLimits:
    """Caps on automatic replies per rolling hour; 0 turns automatic replies off."""

    per_number_per_hour: int = 5
    total_per_hour: int = 300

    def __post_init__(self) -> None:
        for name in ("per_number_per_hour", "total_per_hour"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"ReplyLimits.{name} must be a whole number of 0 or more, not {value!r}")


@dataclass(frozen=True)
class SendCaps:
    """Every cap on texts to relatives: the hourly ones, and the daily ones of a number keyed in on the phone."""

    hourly: ReplyLimits
    keyed_in_texts_per_day: int
    keyed_in_callbacks_per_day: int

    def __post_init__(self) -> None:
        for name in ("keyed_in_texts_per_day", "keyed_in_callbacks_per_day"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"SendCaps.{name} must be a whole number of 0 or more, not {value!r}")


@dataclass(frozen=True)
class Decision:
    """Whether to send an automatic reply, with a reason code and a sentence for the log (no number in it)."""

    allowed: bool
    reason: DecisionReason
    detail: str


def auto_reply_allowed(
    recent_auto_replies_to_number: int, recent_auto_replies_total: int, limits: ReplyLimits
) -> Decision:
    """May one more automatic reply go out, given the counts of the last hour (this number, all numbers)?

    The global cap is checked first: when both are reached, the attack is the more important thing to log.
    """
    for name, value in (
        ("recent_auto_replies_to_number", recent_auto_replies_to_number),
        ("recent_auto_replies_total", recent_auto_replies_total),
    ):
        if value < 0:
            raise ValueError(f"{name} is a count and cannot be negative, got {value}")
    if recent_auto_replies_total >= limits.total_per_hour:
        return Decision(
            allowed=False,
            reason=DecisionReason.GLOBAL_LIMIT,
            detail=(
                f"{recent_auto_replies_total} automatic replies in the last hour reach the global limit of "
                f"{limits.total_per_hour}; possible SMS pumping"
            ),
        )
    if recent_auto_replies_to_number >= limits.per_number_per_hour:
        return Decision(
            allowed=False,
            reason=DecisionReason.NUMBER_LIMIT,
            detail=(
                f"{recent_auto_replies_to_number} automatic replies to this number in the last hour reach the "
                f"limit of {limits.per_number_per_hour}"
            ),
        )
    return Decision(
        allowed=True,
        reason=DecisionReason.WITHIN_LIMITS,
        detail=(
            f"{recent_auto_replies_to_number} of {limits.per_number_per_hour} to this number and "
            f"{recent_auto_replies_total} of {limits.total_per_hour} in total in the last hour"
        ),
    )


def keyed_in_allowed(recent_to_number: int, per_day: int, what: str) -> Decision:
    """May one more text or callback (`what`: "texts", "callbacks") go to a number keyed in on the phone menu,
    given how many it got that way in the last 24 hours?"""
    if recent_to_number < 0:
        raise ValueError(f"recent_to_number is a count and cannot be negative, got {recent_to_number}")
    if recent_to_number >= per_day:
        return Decision(
            allowed=False,
            reason=DecisionReason.KEYED_IN_LIMIT,
            detail=(
                f"{recent_to_number} {what} in the last 24 hours to this number, keyed in on the phone, reach "
                f"the limit of {per_day}"
            ),
        )
    return Decision(
        allowed=True,
        reason=DecisionReason.WITHIN_LIMITS,
        detail=f"{recent_to_number} of {per_day} {what} to this keyed-in number in the last 24 hours",
    )

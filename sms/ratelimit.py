"""Rate limits on automatic replies: a pure decision, given how many were sent in the last hour.

Automatic replies (acknowledgements, keyword answers) are what SMS pumping abuses: someone texts, or spoofs texts
from, many numbers to make the hotline send paid messages. Two caps stop it: one per number (a relative texting in
a loop, or two auto-responders answering each other) and one for all numbers together (a pumping attack spread
over many numbers). Texts an advisor writes are not automatic and are not limited here.

The caller counts the automatic replies of the last hour (sent or queued, to this number and in total) and asks
before each one. When the answer is no, the incoming text is still stored for the advisors: only the automatic
reply is skipped. A `GLOBAL_LIMIT` refusal is worth an alert to operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DecisionReason(StrEnum):
    """Why an automatic reply was allowed or not."""

    WITHIN_LIMITS = "within_limits"
    NUMBER_LIMIT = "number_limit"
    GLOBAL_LIMIT = "global_limit"


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

"""Automatic-reply limits: per number and in total, against loops and SMS pumping."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sms.ratelimit import DecisionReason, ReplyLimits, SendCaps, auto_reply_allowed, keyed_in_allowed

LIMITS = ReplyLimits(per_number_per_hour=3, total_per_hour=100)


@pytest.mark.parametrize(
    ("to_number", "total", "limits", "allowed", "reason"),
    [
        (0, 0, LIMITS, True, DecisionReason.WITHIN_LIMITS),
        (2, 99, LIMITS, True, DecisionReason.WITHIN_LIMITS),
        (3, 10, LIMITS, False, DecisionReason.NUMBER_LIMIT),
        (40, 10, LIMITS, False, DecisionReason.NUMBER_LIMIT),
        (0, 100, LIMITS, False, DecisionReason.GLOBAL_LIMIT),
        (1, 5000, LIMITS, False, DecisionReason.GLOBAL_LIMIT),
        # Both reached: the global limit (a possible attack) is what gets reported.
        (3, 100, LIMITS, False, DecisionReason.GLOBAL_LIMIT),
        # Zero turns automatic replies off.
        (0, 0, ReplyLimits(per_number_per_hour=0, total_per_hour=100), False, DecisionReason.NUMBER_LIMIT),
        (0, 0, ReplyLimits(per_number_per_hour=5, total_per_hour=0), False, DecisionReason.GLOBAL_LIMIT),
        # The defaults allow a normal exchange.
        (2, 40, ReplyLimits(), True, DecisionReason.WITHIN_LIMITS),
    ],
)
def test_decision(
    to_number: int, total: int, limits: ReplyLimits, allowed: bool, reason: DecisionReason
) -> None:
    decision = auto_reply_allowed(to_number, total, limits)
    assert (decision.allowed, decision.reason) == (allowed, reason)


def test_detail_explains_the_limit() -> None:
    assert auto_reply_allowed(3, 10, LIMITS).detail == (
        "3 automatic replies to this number in the last hour reach the limit of 3"
    )
    assert "possible SMS pumping" in auto_reply_allowed(0, 100, LIMITS).detail


@pytest.mark.parametrize(("to_number", "total"), [(-1, 0), (0, -1)])
def test_negative_counts_are_refused(to_number: int, total: int) -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        auto_reply_allowed(to_number, total, LIMITS)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"per_number_per_hour": -1},
        {"total_per_hour": -5},
        {"total_per_hour": True},
        {"per_number_per_hour": 2.5},
    ],
)
def test_bad_limits_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"ReplyLimits\.\w+ must be a whole number"):
        ReplyLimits(**kwargs)  # type: ignore[arg-type]


@given(
    to_number=st.integers(min_value=0, max_value=10_000),
    total=st.integers(min_value=0, max_value=10_000),
    per_number=st.integers(min_value=0, max_value=50),
    global_cap=st.integers(min_value=0, max_value=5_000),
)
def test_allowed_exactly_when_below_both_caps(
    to_number: int, total: int, per_number: int, global_cap: int
) -> None:
    decision = auto_reply_allowed(to_number, total, ReplyLimits(per_number, global_cap))
    assert decision.allowed is (to_number < per_number and total < global_cap)
    assert decision.allowed is (decision.reason is DecisionReason.WITHIN_LIMITS)


@pytest.mark.parametrize(
    ("recent", "per_day", "allowed"),
    [
        (0, 3, True),
        (2, 3, True),
        (3, 3, False),  # the day's allowance is used up
        (9, 3, False),
        (0, 0, False),  # 0: nothing at all to a keyed-in number
    ],
)
def test_a_keyed_in_number_gets_its_daily_allowance_and_no_more(
    recent: int, per_day: int, allowed: bool
) -> None:
    decision = keyed_in_allowed(recent, per_day, "texts")
    assert decision.allowed is allowed
    assert decision.reason is (DecisionReason.WITHIN_LIMITS if allowed else DecisionReason.KEYED_IN_LIMIT)


def test_the_keyed_in_detail_names_what_and_the_limit_without_a_number() -> None:
    assert keyed_in_allowed(2, 2, "callbacks").detail == (
        "2 callbacks in the last 24 hours to this number, keyed in on the phone, reach the limit of 2"
    )
    with pytest.raises(ValueError, match="cannot be negative"):
        keyed_in_allowed(-1, 2, "texts")


@pytest.mark.parametrize("field", ["keyed_in_texts_per_day", "keyed_in_callbacks_per_day"])
@pytest.mark.parametrize("value", [-1, True, 1.5])
def test_bad_send_caps_are_refused(field: str, value: object) -> None:
    values: dict[str, object] = {"keyed_in_texts_per_day": 3, "keyed_in_callbacks_per_day": 2, field: value}
    with pytest.raises(ValueError, match=rf"SendCaps\.{field} must be a whole number"):
        SendCaps(hourly=ReplyLimits(), **values)  # type: ignore[arg-type]

"""Callback windows as people write them: "i aften mellem 17 og 21", "i morgen tidlig mellem 6 og 8".

The words and patterns come from the `time_phrases:` section of `sms/templates/<lang>.yaml`; this module only
picks the case, in local time (Europe/Copenhagen unless told otherwise):

- the day word, from the window's start compared with now: today / this evening (17-22) / tonight (22-05, and
  after midnight when it is already afternoon) / tomorrow / early tomorrow (05-08) / tomorrow evening (17-) /
  on <weekday> (2-6 days ahead) / on <date> (a week or more ahead, when a weekday would be ambiguous);
- the pattern: `between` for a window, `at` for a moment, `until` for a window that is already open, `from_to`
  for a window that ends on a later day after more than 12 hours (not an overnight window);
- the clock: `time_whole_hour` ("17") on the hour, `time` ("14.30") otherwise, `midnight_end` ("24") for a
  window ending at midnight.

Days are calendar days: a text read hours later must not shift "tomorrow".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from routing.wallclock import COPENHAGEN
from sms.catalogue import Catalogue, TimePhrases, default_catalogue

EVENING_FROM = 17
# A deadline by this hour is still "today" ("i dag inden kl. 18"), not "this evening".
DEADLINE_EVENING_FROM = 18
LATE_FROM = 22
NIGHT_UNTIL = 5
EARLY_MORNING_UNTIL = 8
AFTERNOON_FROM = 12
LONG_WINDOW = timedelta(hours=12)
WEEK_DAYS = 7


def require_aware(value: datetime, name: str) -> datetime:
    """`value` itself; ValueError when it is naive, since the core never guesses a timezone."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name} must be timezone-aware, got naive {value.isoformat()}; pass UTC, e.g. datetime(..., tzinfo=UTC)"
        )
    return value


def day_word(moment: datetime, now: datetime, phrases: TimePhrases) -> str:
    """The day part of a phrase for local `moment` seen from local `now` ("i aften", "på mandag")."""
    offset = (moment.date() - now.date()).days
    hour = moment.hour
    if offset <= 0:
        if hour >= LATE_FROM or hour < NIGHT_UNTIL:
            return phrases.days["tonight"]
        return phrases.days["this_evening" if hour >= EVENING_FROM else "today"]
    if offset == 1:
        if hour < NIGHT_UNTIL:
            return phrases.days["tonight" if now.hour >= AFTERNOON_FROM else "tomorrow"]
        if hour < EARLY_MORNING_UNTIL:
            return phrases.days["tomorrow_morning"]
        return phrases.days["tomorrow_evening" if hour >= EVENING_FROM else "tomorrow"]
    if offset < WEEK_DAYS:
        return phrases.weekdays[moment.weekday()]
    return phrases.patterns["date"].format(day=moment.day, month=phrases.months[moment.month - 1])


def deadline_day_word(end: datetime, last: datetime, now: datetime, phrases: TimePhrases) -> str:
    """The day part of "<day> inden kl. <end>" for a window already open: the day of its last minute, except that
    a deadline by 18.00 is "i dag", not "i aften" (a promise at 14.00 of an answer "i aften inden kl. 18" reads as
    if the evening were meant; the evening starts at 17 only for windows that open then)."""
    word = day_word(last, now, phrases)
    if word == phrases.days["this_evening"] and (end.hour, end.minute) <= (DEADLINE_EVENING_FROM, 0):
        return phrases.days["today"]
    return word


def clock(moment: datetime, phrases: TimePhrases, *, is_end: bool = False) -> str:
    """Local `moment` as a time of day ("17", "14.30"; "24" when a window ends at midnight)."""
    if is_end and moment.hour == 0 and moment.minute == 0:
        return phrases.midnight_end
    key = "time_whole_hour" if moment.minute == 0 else "time"
    return phrases.patterns[key].format(
        hour=moment.hour, hour2=f"{moment.hour:02d}", minute=f"{moment.minute:02d}"
    )


def window_phrase(
    start_utc: datetime,
    end_utc: datetime,
    now_utc: datetime,
    language: str | None,
    tz: tzinfo = COPENHAGEN,
    catalogue: Catalogue | None = None,
) -> str:
    """The window from `start_utc` to `end_utc` as the relative would write it, seen at `now_utc`.

    Equal start and end give a moment ("i dag kl. 14.30"). Raises ValueError for a naive datetime, an end before
    the start, or a window that is already over.
    """
    start_utc = require_aware(start_utc, "start_utc").astimezone(UTC)
    end_utc = require_aware(end_utc, "end_utc").astimezone(UTC)
    now_utc = require_aware(now_utc, "now_utc").astimezone(UTC)
    if end_utc < start_utc:
        raise ValueError(f"window ends ({end_utc.isoformat()}) before it starts ({start_utc.isoformat()})")
    if end_utc < now_utc or (end_utc == now_utc and start_utc != end_utc):
        raise ValueError(f"window ended at {end_utc.isoformat()}, before now ({now_utc.isoformat()})")
    phrases = (catalogue or default_catalogue()).time_phrases(language)
    start, end, now = (moment.astimezone(tz) for moment in (start_utc, end_utc, now_utc))
    # The last minute of the window names its day, so a window ending at midnight belongs to the evening before.
    last = (end_utc - timedelta(minutes=1)).astimezone(tz) if end_utc > start_utc else end
    patterns = phrases.patterns

    if start_utc < now_utc:
        return patterns["until"].format(
            day=deadline_day_word(end, last, now, phrases), end=clock(end, phrases, is_end=True)
        )
    start_clock = clock(start, phrases)
    end_clock = clock(end, phrases, is_end=True)
    # Under a minute is a moment. (Not "same clock reading": 02:30 CEST to 02:30 CET in October is an hour.)
    if end_utc - start_utc < timedelta(minutes=1):
        return patterns["at"].format(day=day_word(start, now, phrases), time=start_clock)
    if end.date() > start.date() and end_utc - start_utc > LONG_WINDOW:
        return patterns["from_to"].format(
            start_day=day_word(start, now, phrases),
            start=start_clock,
            end_day=day_word(last, now, phrases),
            end=end_clock,
        )
    return patterns["between"].format(day=day_word(start, now, phrases), start=start_clock, end=end_clock)

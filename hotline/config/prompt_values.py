"""The values the hotline fills into the call flow's prompts, by name: one list for the renderer
(`hotline.twilio.render.placeholder_values`) and for `hotline check`, which holds the flow and prompts to it.

Window hours are named after the window keys in config.yaml (`callbacks.windows`): a window `this_evening` from
17:00 to 21:00 gives `{this_evening_start}` = "17" and `{this_evening_end}` = "21".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time

from hotline.config.sections import CallbackWindow, FileSettings

# The service's name and when someone is on call next are always there; `callback_by` (when the registered
# callback will come) once the call has registered one.
FIXED_VALUES = ("service_name", "next_open", "callback_by")


def window_values(windows: Iterable[CallbackWindow]) -> dict[str, time]:
    """`<key>_start` and `<key>_end` of every window with hours, by name."""
    values: dict[str, time] = {}
    for window in windows:
        if window.start is not None and window.end is not None:
            values[f"{window.key}_start"] = window.start
            values[f"{window.key}_end"] = window.end
    return values


def value_names(settings: FileSettings) -> frozenset[str]:
    """Every placeholder name the hotline can fill in with these settings."""
    return frozenset(FIXED_VALUES) | frozenset(window_values(settings.callbacks.windows))

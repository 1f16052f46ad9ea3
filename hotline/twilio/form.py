"""Reading Twilio's form fields: SIDs are accepted only in their documented shape."""

from __future__ import annotations

import re

from flask import request

_SID = re.compile(r"(CA|SM|MM|RE|AC)[0-9a-zA-Z]{10,62}")


def sid(field: str) -> str | None:
    """The form field `field` when it is a Twilio SID (CA…, SM…, MM…, RE…, AC…), else None."""
    value = request.form.get(field, "")
    return value if _SID.fullmatch(value) else None


def attempt_id() -> int:
    """The callback attempt a callback webhook is about (`?attempt=`), 0 when missing or malformed."""
    value = request.args.get("attempt", "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 12 else 0

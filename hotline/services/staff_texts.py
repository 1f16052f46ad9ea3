"""Texts to staff: case references instead of names, who to tell about a callback, and the text itself.

Texts to staff are in Danish and hold no personal data: a case reference, the language, a category; the details
are behind a link (hotline.services.links).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from hotline.config.settings import Settings
from hotline.db.models import (
    AdvisorRecord,
    CallbackRequest,
)
from hotline.services import outbox
from hotline.services.oncall import chain_for
from routing.callbacks import Priority
from routing.chain import Reason
from routing.oncall import oncall_at
from routing.roster import Advisor, Layer, OverrideKind, Roster
from routing.wallclock import COPENHAGEN
from routing.wording.catalogue import da, known
from sms.templates import render

log = logging.getLogger(__name__)


SHIFT_LAYERS = (Layer.PRIMARY, Layer.BACKUP)


def reason_name(reason: str) -> str:
    """A callback's reason as staff read it, in Danish ("spørgsmål"); an unknown reason as itself."""
    return da(f"reason.{reason}") if known(f"reason.{reason}") else reason


# How many case references a handover text lists (acute first); the staff page has the rest.
HANDOVER_CASES = 4


def reference(callback: CallbackRequest) -> str:
    """The case reference staff see instead of a name or number: PL-<year>-<id>."""
    return f"PL-{callback.created_at.astimezone(COPENHAGEN):%Y}-{callback.id:04d}"


# How long a roster page link works. (Handover texts link to the console, which needs no expiring link; those
# texted before carry their expiry, 12 hours after the shift, in the token itself.)
ROSTER_LINK_FOR = timedelta(days=8)


def staff_text(
    session: Session,
    settings: Settings,
    to: str,
    key: str,
    now: datetime,
    *,
    dedup_key: str,
    expires_at: datetime | None,
    **values: object,
) -> None:
    body = render(key, "da", **outbox.common_values(settings), **values)
    outbox.enqueue(
        session,
        capped=False,
        to=to,
        purpose=key,
        language="da",
        now=now,
        body=body,
        dedup_key=dedup_key,
        expires_at=expires_at,
    )


def managers(roster: Roster, at: datetime, *, on_call_only: bool = True) -> list[Advisor]:
    """The managers on call at `at` (when `on_call_only` and someone is), else everyone with a manager shift."""
    if on_call_only:
        on_call = {e.advisor.id: e.advisor for e in oncall_at(roster, at) if e.layer is Layer.MANAGER}
        if on_call:
            return list(on_call.values())
    ids = {s.advisor_id for s in roster.shifts if s.layer is Layer.MANAGER}
    ids |= {o.advisor_id for o in roster.overrides if o.kind is OverrideKind.ADD and o.layer is Layer.MANAGER}
    return [roster.advisor(i) for i in sorted(ids) if roster.advisor(i).active]


def first_on_call(
    session: Session, settings: Settings, callback: CallbackRequest, at: datetime
) -> str | None:
    """The advisor to tell about a callback: its assignee when on call, else the first of the chain now."""
    priority: Reason = "acute" if callback.priority == Priority.ACUTE.value else "question"
    chain = chain_for(
        session,
        settings,
        at=at,
        reason=priority,
        language=callback.language,
        contact_person_id=callback.assigned_advisor_id,
    )
    steps = [s.advisor.id for s in chain.steps if s.layer in SHIFT_LAYERS]
    return steps[0] if steps else callback.assigned_advisor_id


def advisor_phone(session: Session, advisor_id: str | None) -> str | None:
    advisor = session.get(AdvisorRecord, advisor_id) if advisor_id else None
    return advisor.phone_number if advisor is not None and advisor.active else None

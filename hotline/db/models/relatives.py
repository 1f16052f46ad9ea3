"""A relative, known by phone number: the person every call, text and callback points at."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.models.base import Base, utcnow


class Relative(Base):
    """A relative known by phone number: their language and their own contact person."""

    __tablename__ = "relatives"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # E.164; its pseudonym ("ps:...", hotline.services.pseudonyms) once the relative has been quiet for
    # retention.relatives_days. Numbers on other records become the same pseudonym past their own retention.
    phone_number: Mapped[str] = mapped_column(String(32), unique=True)
    language: Mapped[str | None] = mapped_column(String(8))
    contact_person_id: Mapped[str | None] = mapped_column(ForeignKey("advisors.id", ondelete="SET NULL"))
    last_advisor_id: Mapped[str | None] = mapped_column(ForeignKey("advisors.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_contact_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

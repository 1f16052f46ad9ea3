"""callback_requests holding a voicemail indexed by age: the nightly purge with nothing to do stays cheap

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 04:50:00.000000

At 100x data the purge's "voicemails past retention" UPDATE scanned every callback ever made (benchmarks/scale.py:
the no-op purge 2.18x its 1x cost). A partial index holds only the callbacks that still have a recording, so the
purge reads the few rows it may change and not the history.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_callback_requests_recording_age",
        "callback_requests",
        ["created_at"],
        unique=False,
        postgresql_where=sa.text("recording_sid IS NOT NULL"),
        sqlite_where=sa.text("recording_sid IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_callback_requests_recording_age", table_name="callback_requests")

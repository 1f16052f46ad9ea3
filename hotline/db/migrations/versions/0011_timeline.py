"""staff console: handovers marked read (issue 10, item 6)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.db.models

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handover_reads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advisor_id", sa.String(length=64), nullable=False),
        sa.Column("shift_start", hotline.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("read_at", hotline.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover_reads")),
        sa.UniqueConstraint(
            "advisor_id", "shift_start", name=op.f("uq_handover_reads_advisor_id_shift_start")
        ),
    )


def downgrade() -> None:
    op.drop_table("handover_reads")

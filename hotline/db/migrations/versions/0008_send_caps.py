"""send caps: which texts count in the caps, keyed-in numbers, and the callbacks the caps refused

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 01:55:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.db.models

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# The texts to advisors and managers (sms/templates `staff_texts:`): every other text written so far was an
# automatic text to a relative, and counts in the caps from now on.
STAFF_PURPOSES = ("advisor_window_open", "escalation_overdue", "handover", "roster_gap")


def upgrade() -> None:
    with op.batch_alter_table("sms_outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("capped", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("keyed_in", sa.Boolean(), nullable=False, server_default=sa.false()))
    outbox = sa.table("sms_outbox", sa.column("purpose", sa.String), sa.column("capped", sa.Boolean))
    op.execute(outbox.update().where(outbox.c.purpose.not_in(STAFF_PURPOSES)).values(capped=True))
    with op.batch_alter_table("callback_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("keyed_in", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "callback_refusals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone_number", sa.String(length=32), nullable=True),
        sa.Column("call_sid", sa.String(length=64), nullable=True),
        sa.Column("recording_sid", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.Column("created_at", hotline.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_refusals")),
    )
    with op.batch_alter_table("callback_refusals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_callback_refusals_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_callback_refusals_phone_number"), ["phone_number"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("callback_refusals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callback_refusals_phone_number"))
        batch_op.drop_index(batch_op.f("ix_callback_refusals_created_at"))
    op.drop_table("callback_refusals")
    with op.batch_alter_table("callback_requests", schema=None) as batch_op:
        batch_op.drop_column("keyed_in")
    with op.batch_alter_table("sms_outbox", schema=None) as batch_op:
        batch_op.drop_column("keyed_in")
        batch_op.drop_column("capped")

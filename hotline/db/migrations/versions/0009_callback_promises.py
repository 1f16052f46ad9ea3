"""callback promises: a voicemail from a withheld number is a callback task without a number; a callback
remembers whether the relative picked its window (then the quiet hours do not apply)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 01:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("callback_requests", schema=None) as batch_op:
        batch_op.alter_column("relative_id", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("phone_number", existing_type=sa.String(length=32), nullable=True)
        batch_op.add_column(
            sa.Column("window_picked", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    # Tasks without a number cannot be kept in the older schema.
    op.execute("DELETE FROM callback_requests WHERE relative_id IS NULL OR phone_number IS NULL")
    with op.batch_alter_table("callback_requests", schema=None) as batch_op:
        batch_op.drop_column("window_picked")
        batch_op.alter_column("phone_number", existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column("relative_id", existing_type=sa.Integer(), nullable=False)

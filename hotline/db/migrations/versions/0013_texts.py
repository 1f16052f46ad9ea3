"""texts in the console: an incoming question remembers the answer its receipt promised, and the callback it
was handed to

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 02:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.db.models

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("answer_due_at", hotline.db.models.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("callback_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_messages_callback_id_callback_requests"),
            "callback_requests",
            ["callback_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_messages_callback_id_callback_requests"), type_="foreignkey")
        batch_op.drop_column("callback_id")
        batch_op.drop_column("answer_due_at")

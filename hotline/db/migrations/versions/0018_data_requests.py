"""data_requests: a relative's data exported or erased from the console, the request itself recorded

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 04:40:00.000000

Issue 11 (audit and GDPR). The relative is named by the pseudonym of their number, never the number.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.db.models

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("relative_id", sa.Integer(), nullable=True),
        sa.Column("number_pseudonym", sa.String(length=32), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("requested_at", hotline.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", hotline.db.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_requests")),
    )
    op.create_index(op.f("ix_data_requests_relative_id"), "data_requests", ["relative_id"], unique=False)
    op.create_index(
        op.f("ix_data_requests_number_pseudonym"), "data_requests", ["number_pseudonym"], unique=False
    )
    op.create_index(op.f("ix_data_requests_requested_at"), "data_requests", ["requested_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_data_requests_requested_at"), table_name="data_requests")
    op.drop_index(op.f("ix_data_requests_number_pseudonym"), table_name="data_requests")
    op.drop_index(op.f("ix_data_requests_relative_id"), table_name="data_requests")
    op.drop_table("data_requests")

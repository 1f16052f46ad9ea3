"""roster_requests: shift swaps and "take a shift" asked for by advisors in the console, approved by a manager

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.db.models

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "roster_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("shift_advisor_id", sa.String(length=64), nullable=False),
        sa.Column("cover_advisor_id", sa.String(length=64), nullable=False),
        sa.Column("layer", sa.String(length=16), nullable=False),
        sa.Column("starts_at", hotline.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", hotline.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", hotline.db.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(length=300), nullable=True),
        sa.Column("created_at", hotline.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("roster_version_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["staff_accounts.id"],
            name=op.f("fk_roster_requests_requested_by_staff_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["roster_version_id"],
            ["roster_versions.id"],
            name=op.f("fk_roster_requests_roster_version_id_roster_versions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_requests")),
    )
    with op.batch_alter_table("roster_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roster_requests_requested_by"), ["requested_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_roster_requests_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("roster_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roster_requests_state"))
        batch_op.drop_index(batch_op.f("ix_roster_requests_requested_by"))
    op.drop_table("roster_requests")

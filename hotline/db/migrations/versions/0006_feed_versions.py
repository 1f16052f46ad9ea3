"""feed_versions: a version per calendar feed and per advisor's links, so one person's URLs can be revoked

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 01:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hotline.db.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed_versions",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ident", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", hotline.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "ident", name=op.f("pk_feed_versions")),
    )


def downgrade() -> None:
    op.drop_table("feed_versions")

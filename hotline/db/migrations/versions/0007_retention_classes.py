"""retention classes: indexes on the timestamps the nightly purge selects by

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 01:40:00.000000

The purge updates rows older than a cutoff in batches (`WHERE <timestamp> < :cutoff ... LIMIT`); without these
indexes each batch would scan the whole table.
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

INDEXES = (
    ("calls", "created_at"),
    ("messages", "created_at"),
    ("recordings", "received_at"),
    ("demo_outbound", "created_at"),
    ("relatives", "last_contact_at"),
    ("callback_requests", "updated_at"),
    ("callback_attempts", "started_at"),
)


def upgrade() -> None:
    for table, column in INDEXES:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def downgrade() -> None:
    for table, column in reversed(INDEXES):
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)

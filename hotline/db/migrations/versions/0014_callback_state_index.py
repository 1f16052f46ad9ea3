"""callback_requests.state indexed: the queue lists the open callbacks out of every one ever made

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 03:50:00.000000

At 100x data (100,000 callbacks, 200 open) the queue's query scanned the whole table (benchmarks/scale.py).
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_callback_requests_state"), "callback_requests", ["state"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_callback_requests_state"), table_name="callback_requests")

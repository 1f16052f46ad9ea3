"""Covering indexes for the reports: the dashboard's aggregates read indexes only, not two years of table pages

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 06:00:00.000000

Each index holds every column its report query reads (benchmarks/reports.py prints the plans: Index Only Scans):

- calls by `created_at` with `direction` and `call_sid`: a period's inbound calls, joined to their routing
  (replaces the index on `created_at` alone, which every query by `created_at` can use the new one for);
- call_routing by `started_at` with what the dashboard counts (replaces 0017's index on `started_at` alone);
- callback_requests by `window_end` with the headline's columns (replaces 0017's index on `window_end` alone);
- the transitions to `reached` (partial) by callback with their time: "when was it reached" is one index probe;
- the advisors' replies in the outbox (partial) by relative and time: "the first reply after the text" likewise;
- messages by `answer_due_at` with the texts' columns (replaces 0017's index on `answer_due_at` alone).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_calls_created_at", table_name="calls")
    op.create_index("ix_calls_reports", "calls", ["created_at", "direction", "call_sid"], unique=False)
    op.drop_index("ix_call_routing_started_at", table_name="call_routing")
    op.create_index(
        "ix_call_routing_reports",
        "call_routing",
        ["started_at", "call_sid", "language", "connected_advisor_id", "connected_at"],
        unique=False,
    )
    op.drop_index("ix_callback_requests_window_end", table_name="callback_requests")
    op.create_index(
        "ix_callback_requests_reports",
        "callback_requests",
        ["window_end", "state", "window_start", "next_attempt_at"],
        unique=False,
    )
    op.create_index(
        "ix_callback_transitions_reached",
        "callback_transitions",
        ["callback_id", "at"],
        unique=False,
        postgresql_where=sa.text("to_state = 'reached'"),
        sqlite_where=sa.text("to_state = 'reached'"),
    )
    op.create_index(
        "ix_sms_outbox_replies",
        "sms_outbox",
        ["relative_id", "created_at", "state"],
        unique=False,
        postgresql_where=sa.text("purpose = 'advisor_reply'"),
        sqlite_where=sa.text("purpose = 'advisor_reply'"),
    )
    op.drop_index("ix_messages_answer_due_at", table_name="messages")
    op.create_index(
        "ix_messages_reports",
        "messages",
        ["answer_due_at", "direction", "relative_id", "created_at", "callback_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_messages_reports", table_name="messages")
    op.create_index("ix_messages_answer_due_at", "messages", ["answer_due_at"], unique=False)
    op.drop_index("ix_sms_outbox_replies", table_name="sms_outbox")
    op.drop_index("ix_callback_transitions_reached", table_name="callback_transitions")
    op.drop_index("ix_callback_requests_reports", table_name="callback_requests")
    op.create_index("ix_callback_requests_window_end", "callback_requests", ["window_end"], unique=False)
    op.drop_index("ix_call_routing_reports", table_name="call_routing")
    op.create_index("ix_call_routing_started_at", "call_routing", ["started_at"], unique=False)
    op.drop_index("ix_calls_reports", table_name="calls")
    op.create_index("ix_calls_created_at", "calls", ["created_at"], unique=False)

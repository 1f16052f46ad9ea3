"""The reports: when an advisor answered a call (call_routing.connected_at), and indexes for the dashboard

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-10 10:00:00.000000

`connected_at` is filled for the calls before it from their `accepted` call event (the advisor's press of 1,
which has always been recorded with its time). The indexes let the dashboard count a period's callbacks by the
end of their window, texts by the answer their receipt promised, and opt-outs by their time, without reading the
whole table (benchmarks/reports.py prints the plans).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_routing") as batch:
        batch.add_column(sa.Column("connected_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        """
        UPDATE call_routing SET connected_at = (
            SELECT max(call_events.at) FROM call_events JOIN calls ON calls.id = call_events.call_id
            WHERE calls.call_sid = call_routing.call_sid AND call_events.kind = 'accepted'
        )
        WHERE connected_advisor_id IS NOT NULL
        """
    )
    op.create_index(op.f("ix_call_routing_started_at"), "call_routing", ["started_at"], unique=False)
    op.create_index(op.f("ix_messages_answer_due_at"), "messages", ["answer_due_at"], unique=False)
    op.create_index(
        op.f("ix_callback_requests_window_end"), "callback_requests", ["window_end"], unique=False
    )
    op.create_index(op.f("ix_sms_opt_outs_opted_out_at"), "sms_opt_outs", ["opted_out_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sms_opt_outs_opted_out_at"), table_name="sms_opt_outs")
    op.drop_index(op.f("ix_callback_requests_window_end"), table_name="callback_requests")
    op.drop_index(op.f("ix_messages_answer_due_at"), table_name="messages")
    op.drop_index(op.f("ix_call_routing_started_at"), table_name="call_routing")
    with op.batch_alter_table("call_routing") as batch:
        batch.drop_column("connected_at")
